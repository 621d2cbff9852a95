/**
 * A fixed self-signed certificate (EC P-256, CN local-mesh-demo, SAN *.internal, localhost,
 * 127.0.0.1, valid for 100 years) for the demo TLS backends of the local mesh. FOR LOCAL USE
 * ONLY: the private key is public, in this repository; it protects nothing and must never be
 * used outside the local cloud and its tests. (Node's crypto cannot issue X.509 certificates,
 * and the demo needs no more than a certificate a client can complete a handshake with.)
 */
export const DEMO_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFXnAmtDZVT1B71KM
G3su04zc5cCYqjlgDWMB4YlRAyChRANCAATdgu0rTs7kpPnqkr7qcu0efUy8vgjz
91JsrfBT521l2hDHi6zIF60muA19Ky7BsOWg9Rv2KcUGXZWWuf3ubNP/
-----END PRIVATE KEY-----`;

export const DEMO_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBsjCCAVmgAwIBAgIUdxP6iFPfMIkzf0ZfwI07TKrnm28wCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPbG9jYWwtbWVzaC1kZW1vMCAXDTI2MTIwMTE0MDE1OVoYDzIx
MjYxMTA3MTQwMTU5WjAaMRgwFgYDVQQDDA9sb2NhbC1tZXNoLWRlbW8wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAATdgu0rTs7kpPnqkr7qcu0efUy8vgjz91JsrfBT
521l2hDHi6zIF60muA19Ky7BsOWg9Rv2KcUGXZWWuf3ubNP/o3sweTAdBgNVHQ4E
FgQUWpnnazKghr50Z9q5HbKNQdgk34UwHwYDVR0jBBgwFoAUWpnnazKghr50Z9q5
HbKNQdgk34UwDwYDVR0TAQH/BAUwAwEB/zAmBgNVHREEHzAdggoqLmludGVybmFs
gglsb2NhbGhvc3SHBH8AAAEwCgYIKoZIzj0EAwIDRwAwRAIgbCFnKSy0dYuP6+cJ
8xkGmM5VkOdMOo07xDT5BzzFxAACICfzff8Pt27uj76Okmovl0FXbHiaxGmaMcQo
pFhkfsaQ
-----END CERTIFICATE-----`;
