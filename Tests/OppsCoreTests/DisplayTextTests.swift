import OppsCore
import Testing

/// How names are compared when typed, and how counts are said.
@Suite struct DisplayTextTests {
    /// A name typed with a full-width space, two spaces, or pasted with a zero-width character
    /// finds the record whose name reads the same.
    @Test func aTypedNameIsComparedAsItReads() {
        #expect("华东　试点".lookupFolded == "华东 试点".lookupFolded)
        #expect("  华东  试点 ".lookupFolded == "华东 试点")
        #expect("华\u{200B}东 试点\u{FEFF}".lookupFolded == "华东 试点")
        #expect("ACME\u{00A0}Rollout".lookupFolded == "acme rollout")
        #expect("华东 试点".lookupFolded != "华东试点".lookupFolded, "a space that is there still tells two names apart")
    }

    @Test func aCountSaysItsNoun() {
        #expect(counted(1, "deal") == "1 deal" && counted(0, "deal") == "0 deals" && counted(1200, "row") == "1,200 rows")
        #expect(counted(2, "opportunity", plural: "opportunities") == "2 opportunities")
    }
}
