"""Moving bytes to and from the device: TLS, credentials, the HTTP request path.

Everything that turns a transport failure into one of aiopikvm's exceptions lives here.
"""
