import Testing

@testable import CodestratorCore

@Suite struct JSONTests {
    @Test func objectsKeepKeyOrderAndTextIsCompactWithoutHTMLEscaping() throws {
        let v = try JSON.parse(#"{"z":1,"a":"</b> & é","m":[true,null,2.5]}"#)
        #expect(v.serialized() == #"{"z":1,"a":"</b> & é","m":[true,null,2.5]}"#)
    }

    @Test func integersStayDistinctFromFractions() throws {
        #expect(try JSON.parse("3") == .int(3))
        #expect(try JSON.parse("3.0").intValue == 3)
        #expect(try JSON.parse("3.5").intValue == nil)
        #expect(try JSON.parse(#""3""#).intValue == nil)
    }

    @Test func controlCharactersAreEscaped() throws {
        let s = JSON.string("a\nb\u{1}\"\\").serialized()
        #expect(s == #""a\nb\u0001\"\\""#)
        #expect(try JSON.parse(s) == .string("a\nb\u{1}\"\\"))
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func hostileInputIsRejectedNotCrashed() {
        #expect(throws: JSONParseError.self) { try JSON.parse(String(repeating: "[", count: 100_000)) }
        #expect(throws: JSONParseError.self) { try JSON.parse("{\"a\":}") }
        #expect(throws: JSONParseError.self) { try JSON.parse("{} x") }
        #expect(throws: JSONParseError.self) { try JSON.parse("\"unterminated") }
    }
}

@Suite struct SlugTests {
    /// The slug policy's examples: names (worktree_name) and requests (user_request) alike.
    @Test(arguments: [
        ("Improve the gallery experience for artist profile pages", "improve-gallery"),
        ("Fix login", "fix-login"),
        ("Auth Flow v2", "auth-flow"),
        ("the of", "the-of"),
        ("로그인 수정", "work"),
        ("$(touch pwned)", "touch-pwned"),
        ("../../etc/passwd", "etc-passwd"),
    ])
    func slugPolicyMatchesTheSpecExamples(input: String, expected: String) {
        #expect(Slug.derive(preferred: input) == expected)
        if input != "Auth Flow v2" { #expect(Slug.derive(preferred: nil, fallback: input) == expected) }
    }

    /// Requests as people type them: the slug carries the task (object and action), not the politeness.
    @Test(arguments: [
        ("Please add a checkout flow with tax calculation", "checkout-tax"),
        ("I want you to fix the login redirect bug", "login-redirect"),
        ("Can you please add dark mode support to the settings page?", "dark-mode"),
        ("Could you refactor the payment module so it is easier to test", "refactor-payment"),
        ("We need to migrate the database from MySQL to Postgres", "migrate-database"),
        ("Hey, can you make the search results paginate?", "search-results"),
        ("Fix the flaky CI tests on macOS", "ci-tests"),
        ("Add rate limiting to the public API", "rate-limiting"),
        ("I'd like you to implement password reset via email", "password-reset"),
        ("Please write unit tests for the cart service", "unit-tests"),
        ("Remove the legacy v1 endpoints", "remove-legacy"),
        ("Upgrade to Swift 6", "upgrade-swift"),
        ("Update the README", "update-readme"),
        ("Fix issue #123", "fix-123"),
        ("Let's add a CSV export to the reports page", "csv-export"),
        ("Can you speed up the image upload?", "speed-image"),
        ("The login page crashes on Safari, please fix it", "login-crashes"),
        ("Build an admin dashboard for user management", "admin-dashboard"),
        ("Create an onboarding wizard for new users", "onboarding-wizard"),
        ("Add i18n support for German and French", "i18n-german"),
        ("Optimize the slow SQL queries in the order history", "optimize-sql"),
        ("Rename the User model to Account", "rename-user"),
        ("Add retries to the HTTP client", "retries-http"),
        ("Implement OAuth login with GitHub", "oauth-login"),
        ("Document the deployment process", "document-deployment"),
        ("Please fix the memory leak in the websocket handler", "memory-leak"),
        ("Add pagination", "add-pagination"),
        ("Fix it", "fix"),
        ("Please", "please"),
        ("Thanks!", "thanks"),
        ("I want you to clean up the logging", "clean-logging"),
        ("Add a dark theme", "dark-theme"),
        ("could you add tests", "add-tests"),
        ("We should validate email addresses on signup", "validate-email"),
        ("Handle timeouts when the payment gateway is down", "timeouts-payment"),
        ("Add a cart with checkout and tax", "cart-checkout"),
        ("Move the config loading into its own module", "move-config"),
        ("Support uploading avatars", "uploading-avatars"),
        ("make the tests pass", "tests-pass"),
        ("Please could you kindly add an audit log for admin actions", "audit-log"),
        ("Investigate why the nightly build fails", "nightly-build"),
        ("Add two-factor authentication", "two-factor"),
        ("Bump lodash to 4.17.21", "bump-lodash"),
        ("Replace moment.js with date-fns", "replace-moment"),
        ("Set up GitHub Actions for linting", "github-actions"),
        ("Add a checkout flow with tax calculation and coupon codes", "checkout-tax"),
    ])
    func requestsGiveTaskRepresentativeSlugs(request: String, expected: String) {
        #expect(Slug.derive(preferred: nil, fallback: request) == expected)
        // Deterministic: the same request gives the same slug.
        #expect(Slug.fromRequest(request) == Slug.fromRequest(request))
    }

    @Test func aWorktreeNameWinsOverTheRequest() {
        #expect(Slug.derive(preferred: "Checkout Tax", fallback: "Please add a cart") == "checkout-tax")
        #expect(Slug.derive(preferred: "!!!", fallback: "Please add a cart") == "add-cart")
    }

    @Test func longWordsAreCutTo20Letters() {
        #expect(Slug.derive(preferred: String(repeating: "x", count: 60)) == String(repeating: "x", count: 20))
    }

    @Test func collisionCandidatesRunTo99() {
        let c = Slug.candidates("login")
        #expect(c.first == "login")
        #expect(c[1] == "login-2")
        #expect(c.last == "login-99")
    }

    @Test func viewerNameJoinsRepositoryAndWorktree() {
        #expect(Slug.viewerSessionName(repository: "My_App", worktree: "auth-flow") == "my-app-auth-flow")
        #expect(Slug.viewerSessionName(repository: "", worktree: "") == "repo-worktree")
    }
}

@Suite struct RollupTests {
    @Test func containerStatusIsDerivedFromChildren() {
        #expect(Rollup.derive(cancelled: true, children: ["done"]) == .cancelled)
        #expect(Rollup.derive(cancelled: false, children: []) == .todo)
        #expect(Rollup.derive(cancelled: false, children: ["done", "cancelled"]) == .done)
        #expect(Rollup.derive(cancelled: false, children: ["done", "todo"]) == .inProgress)
        #expect(Rollup.derive(cancelled: false, children: ["blocked", "todo"]) == .blocked)
        #expect(Rollup.derive(cancelled: false, children: ["cancelled"]) == .todo)
    }

    @Test func caseTransitionsFollowTheTable() {
        #expect(TaskStatus.todo.canMove(to: .inProgress))
        #expect(!TaskStatus.todo.canMove(to: .done))
        #expect(TaskStatus.done.canMove(to: .inProgress))
        #expect(!StepStatus.done.canMove(to: .todo))
        #expect(!SessionStatus.closed.canMove(to: .active))
    }
}
