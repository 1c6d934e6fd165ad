/// The demo quarter's words: customers, people and what reps write, in English for the north
/// territory and Chinese for the east. Combinations make every name distinct however many deals.
enum Names {
    static let firstEN = [
        "Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Acme", "Hooli",
        "Vandelay", "Wonka", "Cyberdyne", "Tyrell", "Soylent", "Oceanic", "Monarch", "Dunder", "Aperture", "Massive",
    ]
    static let secondEN = ["Logistics", "Foods", "Energy", "Retail", "Health", "Motors", "Systems", "Freight", "Pharma", "Textiles"]
    static let industryEN = ["logistics", "food", "energy", "retail", "healthcare", "automotive", "software", "logistics", "pharma", "textiles"]
    static let cities = ["上海", "北京", "杭州", "苏州", "南京", "深圳", "广州", "成都", "武汉", "宁波"]
    static let cores = ["云帆", "华信", "金桥", "东方", "恒远", "中科", "新宇", "嘉禾", "天成", "博远"]
    static let industriesZH = ["物流", "制造", "医药", "零售", "能源", "科技"]

    /// Account `n`: even numbers in the north (English), odd in the east (Chinese).
    static func account(_ n: Int) -> (full: String, short: String, industry: String) {
        let k = n / 2
        if n % 2 == 0 {
            let first = firstEN[k % firstEN.count], second = secondEN[(k / firstEN.count) % secondEN.count]
            let round = k / (firstEN.count * secondEN.count)
            let full = "\(first) \(second)" + (round > 0 ? " \(round + 1)" : "")
            return (full + (k % 3 == 0 ? " Ltd." : " Inc."), full, industryEN[(k / firstEN.count) % industryEN.count])
        }
        let city = cities[k % cities.count], core = cores[(k / cities.count) % cores.count], industry = industriesZH[(k / 100) % industriesZH.count]
        let round = k / (cities.count * cores.count * industriesZH.count)
        let short = core + industry + (round > 0 ? "\(round + 1)" : "")
        return (city + short + "有限公司", short, industry)
    }

    static let givenEN = [
        "Alice", "Ben", "Carla", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack",
        "Karen", "Leo", "Maria", "Nick", "Olivia", "Paul", "Quinn", "Rosa", "Steve", "Tina",
    ]
    static let familyEN = [
        "Adams", "Baker", "Clark", "Davis", "Evans", "Foster", "Garcia", "Hughes", "Irving", "Jones",
        "King", "Lopez", "Miller", "Nolan", "Owens", "Parker", "Reed", "Smith", "Turner", "Walsh",
    ]
    static let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗"]
    static let givenZH = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚"]
    static let titlesEN = ["CIO", "CFO", "Head of Operations", "IT Director", "Procurement Manager", "COO"]
    static let titlesZH = ["信息总监", "财务总监", "运营总监", "IT 经理", "采购经理", "副总经理"]

    /// Contact `n`: a distinct name (within 400) and a distinct phone.
    static func person(_ n: Int, chinese: Bool) -> (name: String, title: String, phone: String) {
        if chinese {
            return (surnames[n % 20] + givenZH[(n / 20) % 20], titlesZH[n % titlesZH.count], "+86 139 \(String(10_000_000 + n * 7919 % 90_000_000))")
        }
        return ("\(givenEN[n % 20]) \(familyEN[(n / 20) % 20])", titlesEN[n % titlesEN.count], "+1 415 \(String(1_000_000 + n * 7919 % 9_000_000))")
    }

    static let productsEN = ["CRM rollout", "field service", "analytics pilot", "renewal", "expansion", "data platform", "mobile sales", "support upgrade"]
    static let productsZH = ["CRM 上线", "现场服务", "数据分析 试点", "续约", "扩容", "数据平台", "移动销售", "客服升级"]
    static let qualificationEN = ["budget approved for next quarter", "replacing a spreadsheet process", "met at the trade show, clear need"]
    static let qualificationZH = ["下季度预算已批", "替换现有表格流程", "展会上接触，需求明确"]
    static let needsEN = ["one view of the pipeline", "offline work for field reps", "faster quotes", "fewer lost handovers"]
    static let needsZH = ["统一的商机视图", "外勤人员离线工作", "更快出报价", "减少交接遗漏"]
    static let decidersEN = ["CFO and IT director", "COO", "the board", "Head of Sales"]
    static let decidersZH = ["财务总监和 IT 经理", "运营总监", "董事会", "销售副总"]
    static let solutionEN = ["standard edition, 50 seats", "enterprise edition with SSO", "pilot for one region, then rollout"]
    static let solutionZH = ["标准版 50 用户", "企业版含单点登录", "先一个区域试点再推广"]
    static let termsEN = ["annual, net 30", "three years, quarterly billing", "annual prepaid"]
    static let termsZH = ["年付，30 天账期", "三年合同，按季付款", "年度预付"]
    static let notesEN = ["walked through the demo", "talked budget with the sponsor", "sent the case study", "agreed the next meeting", "answered security questions"]
    static let notesZH = ["演示了产品", "和发起人谈了预算", "发送了案例", "约好下次会议", "回答了安全问题"]
    static let nextEN = ["Send the revised quote", "Book the technical demo", "Call the CFO about budget", "Prepare the pilot plan", "Confirm the decision date"]
    static let nextZH = ["发送修订报价", "安排技术演示", "约财务总监谈预算", "准备试点方案", "确认决策时间"]
    static let tasksEN = ["Send the contract draft", "Prepare the ROI sheet", "Set up the trial account"]
    static let tasksZH = ["发送合同草稿", "准备投资回报测算", "开通试用账号"]
}
