import Logging
import ODataConnector
import Sync

extension EndpointDirectory {
    /// The endpoints a `couplet` process can open: PostgreSQL databases and Dataverse environments.
    static func couplet(logger: Logger) -> EndpointDirectory {
        EndpointDirectory(connectors: [DataverseConnector(logger: logger)])
    }
}
