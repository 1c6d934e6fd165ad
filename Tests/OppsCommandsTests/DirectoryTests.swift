import Foundation
import OppsCore
import Testing

/// Issue 15: accounts and contacts as first-class commands, a deal's account shown by name.
@Suite struct DirectoryTests {
    @Test func accountsAndContactsAreListedShownAndMadeOffline() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            #expect(await opps("account", "--home", home).stdout.contains("no accounts on this laptop yet"))
            let made = await opps("account", "new", "上海云帆", "industry=物流", "territory=east", "--home", home)
            #expect(made.code == 0, "\(made.stderr)")
            #expect(await opps("account", "new", "上海云帆", "--home", home).stderr.contains("already here"))
            #expect(await opps("account", "new", "Bad", "colour=blue", "--home", home).stderr.contains("no field \"colour\""))
            let person = await opps("contact", "new", "李伟", "--account", "上海云帆", "title=CIO", "--home", home)
            #expect(person.code == 0, "\(person.stderr)")
            #expect(await opps("new", "华东 试点", "--account", "上海云帆", "--amount", "120000.00", "--currency", "CNY", "--home", home).code == 0)
            let list = await opps("account", "list", "--home", home)
            let row = try #require(list.stdout.split(separator: "\n").first { $0.contains("上海云帆") })
            #expect(row.hasSuffix("1"), "one deal: \(row)")
            #expect(await opps("account", "list", "--search", "云帆", "--home", home).stdout.contains("上海云帆"))
            #expect(await opps("account", "list", "--search", "nothing", "--home", home).stdout.contains("no account here matches"))
            let shown = await opps("account", "show", "上海云帆", "--home", home)
            #expect(shown.stdout.contains("华东 试点") && shown.stdout.contains("120,000.00 CNY") && shown.stdout.contains("李伟"), "\(shown.stdout)")
            let contacts = await opps("contact", "--home", home)
            #expect(contacts.stdout.contains("李伟") && contacts.stdout.contains("上海云帆"), "the account by name: \(contacts.stdout)")
            #expect(await opps("contact", "show", "李伟", "--home", home).stdout.contains("CIO"))
            #expect(await opps("account", "show", "李伟", "--home", home).stderr.contains("not an account"))
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("account", "list", "--home", home, "--json").json?.array?.count == 1)
        }
    }
}
