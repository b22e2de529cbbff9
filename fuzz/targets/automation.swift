import Engine
import FuzzSupport

/// The automation graph validator: `AutomationDefinition.parse` (a `POST /v1/automations` body)
/// or `AutomationGraphParser.parse` (a bare canvas `{"nodes", "edges"}`) on any JSON.
///
/// A graph it accepts must keep its promises, checked here by other means than the parser's:
/// one trigger, every node reachable from it, both ways out of every branch, and no loop among
/// nodes that do not wait (a topological sort of them must empty). What the walker then does
/// with each node must not crash either: its filters compiled for both stores, its templates
/// rendered, its delay's wake-up computed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAutomation(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let document = try? JSONParser.parse(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    var timezone = "UTC"
    let graph: AutomationGraph
    do {
        if let body = document.objectValue, body["graph"] != nil {
            let definition = try AutomationDefinition.parse(body)
            timezone = definition.timezone
            _ = definition.reentryJSON
            if let exit = definition.exitEvent { FuzzAutomation.compile(exit.filter) }
            graph = try definition.parsedGraph()
        } else {
            graph = try AutomationGraphParser.parse(document)
        }
    } catch let error as GraphError {
        FuzzCheck.require(!error.message.isEmpty, "a graph error says what is wrong")
        return 0
    } catch let error as InputError {
        FuzzCheck.require(!error.message.isEmpty, "a field error says what is wrong")
        return 0
    } catch {
        fatalError("broken promise: parsing throws only GraphError or InputError, not \(type(of: error))")
    }
    FuzzAutomation.checkShape(graph)
    FuzzAutomation.checkSteps(graph, timezone: timezone)
    return 0
}
