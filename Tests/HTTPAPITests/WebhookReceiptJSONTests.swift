import Foundation
import NIOCore
import SchedulerAPI
import Testing
import Workflows

@testable import HTTPAPI

/// The 202 of an accepted delivery is written from a `JSONValue`, not through `WireFormat`: both must
/// say the same.
@Suite("webhook receipts written as bytes")
struct WebhookReceiptJSONTests {
    @Test(
        "a receipt written from its JSON value reads back as the encoder writes it",
        arguments: [
            WebhookReceipt(runID: "run_01", traceID: "tr-0123456789abcdef0123456789abcdef", state: "queued"),
            WebhookReceipt(runID: "run_02", traceID: nil, state: "queued"),
            WebhookReceipt(
                runID: "run_03", traceID: nil, state: "skipped",
                reason: "skipped: run \"run_01\" is still running\n(overlap: skip) — ✓ /path\\x\u{1}"),
            WebhookReceipt(runID: "run_04", traceID: "tr-ff", state: "queued", duplicate: true),
        ])
    func sameAsEncoder(_ receipt: WebhookReceipt) throws {
        let written = try JSONAnswer(receipt.jsonValue).body()
        let encoded = try JSONAnswer(receipt).body()
        let fast = try JSONSerialization.jsonObject(with: Data(written.readableBytesView)) as? NSDictionary
        let slow = try JSONSerialization.jsonObject(with: Data(encoded.readableBytesView)) as? NSDictionary
        #expect(fast != nil)
        #expect(fast == slow)
        #expect(written.readableBytesView.last == UInt8(ascii: "\n"))
        #expect(
            try WireFormat.decode(WebhookReceipt.self, from: Data(written.readableBytesView)) == receipt)
    }
}
