"""SMS providers for the phone verifier: the sandbox (records codes, development) or Tencent Cloud SMS."""
