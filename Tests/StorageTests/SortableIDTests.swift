import Testing

@testable import Storage

@Suite("Sortable ids")
struct SortableIDTests {
    @Test("ids made in a row are strictly increasing, even within one millisecond, and keep the ULID layout")
    func sortableIDs() {
        let ids = (0..<20_000).map { _ in SortableID.make("run") }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        #expect(
            ids.allSatisfy { $0.count == 30 && $0.hasPrefix("run_") && $0.dropFirst(4).allSatisfy(alphabet.contains) })
        // Several ids share a millisecond (20,000 take far less than 20 s), and still differ.
        #expect(Set(ids.map { $0.prefix(14) }).count < ids.count)
        #expect(Set(ids).count == ids.count)
    }
}
