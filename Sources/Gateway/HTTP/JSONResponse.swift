import Engine
import Hummingbird

/// JSON responses written with Engine's ``JSON`` so stored metadata is embedded verbatim.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: JSON) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        value.write(into: &bytes)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
