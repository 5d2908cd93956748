using System.Runtime.Versioning;

// The registry binary, the process handling and the file modes are Linux-only, like the product.
[assembly: SupportedOSPlatform("linux")]
