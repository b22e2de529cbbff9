import Engine
import FuzzSupport

/// The filter language (smart lists, audiences, conditions): `FilterParser` on any JSON, then
/// `FilterCompiler` to both stores' SQL in both shapes, without a database.
///
/// The input is one filter document, or an array whose first item is the filter and whose
/// others are smart lists 1, 2, ... it may reference (`{"list": 2}`), so list expansion, cycles
/// and the expansion bound are reached too. Compiled SQL must be fixed text only: every value a
/// caller wrote is a bound parameter, so the text is printable ASCII, its parentheses and quotes
/// balance, and its placeholders are exactly the bindings.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFilter(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let document = try? JSONParser.parse(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    var documents = [document]
    if case .array(let items) = document, !items.isEmpty { documents = Array(items.prefix(9)) }
    var lists: [Int64: Filter] = [:]
    for (index, item) in documents.enumerated().dropFirst() {
        if let list = try? FilterParser.parse(item) { lists[Int64(index)] = list }
    }
    let filter: Filter
    do {
        filter = try FilterParser.parse(documents[0])
    } catch {
        FuzzCheck.require(error.path.isEmpty || error.path.hasPrefix("/"), "a filter error's path is a JSON pointer: \(error.path)")
        FuzzCheck.require(!error.message.isEmpty, "a filter error says what is wrong")
        return 0
    }
    _ = filter.referencedLists
    for dialect in [SQLDialect.sqlite, .postgres] {
        for shape in [FilterCompiler.Shape.set, .oneContact] {
            let compiled: CompiledFilter
            do {
                compiled = try FilterCompiler.compile(filter, dialect: dialect, shape: shape, now: FuzzCheck.now, lists: lists)
            } catch {
                FuzzCheck.require(!error.message.isEmpty, "a compile error says what is wrong")
                continue
            }
            FuzzSQL.check(compiled.sql, compiled.bindings, dialect)
            let count = DirectoryStatement.count(compiled)
            FuzzSQL.check(count.sql, count.bindings, dialect)
            let page = DirectoryStatement.members(compiled, after: 0, through: 100, limit: 50, dialect)
            FuzzSQL.check(page.sql, page.bindings, dialect)
        }
        if case .activity(let condition) = filter {
            let test = FilterCompiler.compileActivityTest(condition, dialect: dialect, now: FuzzCheck.now)
            FuzzSQL.check(test.sql, test.bindings, dialect)
        }
    }
    return 0
}
