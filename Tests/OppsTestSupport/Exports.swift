// Tests start programs (the hub, openssl, a shell) as the simulator does.
@_exported import OppsChildProcess
