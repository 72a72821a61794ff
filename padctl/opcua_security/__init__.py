"""OPC UA security shared by both sides of the wire: certificates and their trust (padctl's
client, padctl's SCADA face, a simulated PLC) and a secured server's configuration (the face,
a simulated PLC). No codec and no face: the simulators may use it."""

from padctl.opcua_security._server import (
    PasswordUsers,
    RefusedClient,
    ServerSecurity,
    configure_security,
)
from padctl.opcua_security._trust import (
    DER_ENCODING,
    application_uri_of,
    certificate_format,
    first_certificate,
    is_trusted,
    load_certificate,
    load_trusted_certificates,
    read_private_key,
    to_der,
)

__all__ = [
    "DER_ENCODING",
    "PasswordUsers",
    "RefusedClient",
    "ServerSecurity",
    "application_uri_of",
    "certificate_format",
    "configure_security",
    "first_certificate",
    "is_trusted",
    "load_certificate",
    "load_trusted_certificates",
    "read_private_key",
    "to_der",
]
