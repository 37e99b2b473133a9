import AsyncHTTPClient
import CommandSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A headless Chromium driven through chromedriver's W3C WebDriver protocol (what Selenium speaks):
/// one chromedriver process on a free port, one browser session in it.
final class Browser: @unchecked Sendable {
    private let driver: Process
    private let base: String
    private let session: String

    /// Where screenshots go: `.build/test-artefacts/console/` in the package (not committed).
    static let artefacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: ".build/test-artefacts/console")

    /// Starts chromedriver and a headless Chromium, runs `body`, and ends both whatever happens.
    static func with<T>(isolation: isolated (any Actor)? = #isolation, _ body: (Browser) async throws -> T) async throws -> T {
        let browser = try await Browser()
        do {
            let result = try await body(browser)
            await browser.quit()
            return result
        } catch {
            await browser.quit()
            throw error
        }
    }

    private init() async throws {
        let port = try freeLocalPort()
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CHROMEDRIVER"] ?? "/usr/bin/chromedriver")
        driver.arguments = ["--port=\(port)", "--log-level=SEVERE"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        let base = "http://127.0.0.1:\(port)"
        self.base = base
        let ready = try await eventually(within: .seconds(20)) { (try? await Self.call(.GET, "\(base)/status")) != nil }
        guard ready else {
            Self.stop(driver)
            throw BrowserFailure(message: "chromedriver did not answer on port \(port)")
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": ProcessInfo.processInfo.environment["CHROMIUM"] ?? "/usr/bin/chromium",
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-dev-shm-usage"],
                    ] as [String: Any],
                ] as [String: Any]
            ]
        ]
        do {
            let created = try await Self.call(.POST, "\(base)/session", capabilities)
            guard let id = (created as? [String: Any])?["sessionId"] as? String else {
                throw BrowserFailure(message: "chromedriver made no session: \(String(describing: created))")
            }
            session = id
            // Finding an element waits up to 10 s for it: a click that submits a form returns before the next page is there.
            _ = try await Self.call(.POST, "\(base)/session/\(id)/timeouts", ["implicit": 10_000])
        } catch {
            Self.stop(driver)
            throw error
        }
    }

    /// Ends the browser session (chromedriver closes Chromium) and chromedriver. SIGKILL, since a
    /// test runner's children may inherit a mask that blocks SIGTERM, and chromedriver keeps no state.
    func quit() async {
        _ = try? await Self.call(.DELETE, "\(base)/session/\(session)")
        Self.stop(driver)
    }

    private static func stop(_ driver: Process) {
        kill(driver.processIdentifier, SIGKILL)
        driver.waitUntilExit()
    }

    // MARK: Pages

    /// Loads `url` and waits for it.
    func open(_ url: String) async throws { _ = try await command(.POST, "url", ["url": url]) }

    /// The page's title.
    func title() async throws -> String { try await command(.GET, "title") as? String ?? "" }

    /// The URL shown.
    func currentURL() async throws -> String { try await command(.GET, "url") as? String ?? "" }

    /// The visible text of the first element matching `css`.
    func text(_ css: String) async throws -> String { try await onFresh(css) { try await $0.text() } }

    /// Clicks the first element matching `css`.
    func click(_ css: String) async throws { try await onFresh(css) { try await $0.click() } }

    /// Types `text` into the first element matching `css`.
    func type(_ css: String, _ text: String) async throws { try await onFresh(css) { try await $0.type(text) } }

    /// Finds the first element matching `css` and acts on it. The page swaps its `<main>` when it
    /// refreshes itself, which can happen between finding the element and acting on it: then the
    /// element is found again (a refresh comes at most once a second, so a few tries suffice).
    private func onFresh<T>(_ css: String, _ action: (Element) async throws -> T) async throws -> T {
        for _ in 1..<5 {
            do {
                return try await action(element(css))
            } catch let failure as BrowserFailure where failure.message.contains("stale element") {
                continue
            }
        }
        return try await action(element(css))
    }

    /// How many elements match `css` now (without waiting for one to appear).
    func count(_ css: String) async throws -> Int {
        try await run("return document.querySelectorAll(arguments[0]).length", css) as? Int ?? 0
    }

    /// The first element matching `css`; fails when there is none.
    func element(_ css: String) async throws -> Element {
        let found = try await command(.POST, "element", ["using": "css selector", "value": css])
        return Element(browser: self, id: try Self.elementID(found))
    }

    /// Runs JavaScript in the page (its `arguments` are `arguments`) and returns its value.
    @discardableResult
    func run(_ script: String, _ arguments: String...) async throws -> Any? {
        try await command(.POST, "execute/sync", ["script": script, "args": arguments])
    }

    /// Accepts the page's `confirm()` dialog once it shows.
    func acceptDialog() async throws {
        let shown = try await eventually(within: .seconds(10)) { (try? await command(.POST, "alert/accept", [:])) != nil }
        #expect(shown, "no dialog to accept")
    }

    /// The value of the cookie `name` (HttpOnly ones too: the driver sees them).
    func cookie(_ name: String) async throws -> String? {
        (try? await command(.GET, "cookie/\(name)") as? [String: Any])?["value"] as? String
    }

    /// Waits until the first element matching `css` shows text for which `condition` holds (the page
    /// refreshes itself); returns the last text seen.
    @discardableResult
    func waitForText(_ css: String, within timeout: Duration = .seconds(30), _ condition: (String) -> Bool) async throws -> String {
        var last = ""
        let held = try await eventually(within: timeout, every: .milliseconds(250)) {
            last = (try? await text(css)) ?? ""
            return condition(last)
        }
        #expect(held, "\(css) never showed the expected text; last: \(last)")
        return last
    }

    /// Saves a PNG of the window as `name`.png in `artefacts`.
    func screenshot(_ name: String) async throws {
        guard let encoded = try await command(.GET, "screenshot") as? String, let data = Data(base64Encoded: encoded) else {
            throw BrowserFailure(message: "no screenshot")
        }
        try FileManager.default.createDirectory(at: Self.artefacts, withIntermediateDirectories: true)
        try data.write(to: Self.artefacts.appending(path: "\(name).png"))
    }

    /// An element of the page.
    struct Element {
        let browser: Browser
        let id: String

        func click() async throws { _ = try await browser.command(.POST, "element/\(id)/click", [:]) }
        func type(_ text: String) async throws { _ = try await browser.command(.POST, "element/\(id)/value", ["text": text]) }
        func clear() async throws { _ = try await browser.command(.POST, "element/\(id)/clear", [:]) }
        func text() async throws -> String { try await browser.command(.GET, "element/\(id)/text") as? String ?? "" }
    }

    // MARK: Protocol

    private func command(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await Self.call(method, "\(base)/session/\(session)/\(path)", body)
    }

    /// One WebDriver call: JSON in, the answer's `value` out; a WebDriver error throws with its message.
    private static func call(_ method: HTTPMethod, _ url: String, _ body: [String: Any]? = nil) async throws -> Any? {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let json = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView), options: [.fragmentsAllowed]) as? [String: Any]
        let value = json?["value"]
        if response.status.code >= 400 {
            let error = (value as? [String: Any]).map { "\($0["error"] ?? ""): \($0["message"] ?? "")" } ?? "HTTP \(response.status.code)"
            throw BrowserFailure(message: "\(method) \(url.split(separator: "/").suffix(2).joined(separator: "/")): \(error)")
        }
        return value
    }

    /// The id in a W3C element reference (its key is `element-6066-…`).
    private static func elementID(_ value: Any?) throws -> String {
        guard let reference = value as? [String: Any], let id = reference.first(where: { $0.key.hasPrefix("element-") })?.value as? String else {
            throw BrowserFailure(message: "not an element: \(String(describing: value))")
        }
        return id
    }
}

/// Something went wrong talking to the browser.
struct BrowserFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
