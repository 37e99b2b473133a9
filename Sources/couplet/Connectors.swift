import Logging
import ODataConnector
import Sync

extension EndpointDirectory {
    /// The endpoints a `couplet` process can open: PostgreSQL databases, Dataverse environments and
    /// Business Central companies.
    static func couplet(logger: Logger) -> EndpointDirectory {
        EndpointDirectory(connectors: [DataverseConnector(logger: logger), BusinessCentralConnector(logger: logger)])
    }
}
