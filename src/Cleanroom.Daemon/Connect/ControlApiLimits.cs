namespace Cleanroom.Daemon.Connect;

/// <summary>Bounds shared by every protocol of the control API.</summary>
internal static class ControlApiLimits
{
    /// <summary>The largest request message, for gRPC, gRPC-Web and Connect alike (image import chunks are 1 MiB).</summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;
}
