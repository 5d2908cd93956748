namespace Cleanroom.Daemon.Sandboxes;

/// <summary>A freshly booted guest whose agent never answered, for a caller that boots it once more (see <c>BootColdAsync</c>).</summary>
internal sealed class SilentGuestException(string message) : Exception(message);
