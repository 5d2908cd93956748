using Cleanroom.Images;
using Cleanroom.Images.Layers;
using Cleanroom.Images.Registry;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>Maps the image store's failures to API errors with a reason code, keeping their (user-facing) messages.</summary>
public static class ImageErrors
{
    public static DaemonException? Translate(Exception ex) => ex switch
    {
        RegistryException r => r.Kind switch
        {
            RegistryErrorKind.NotFound => new DaemonException(StatusCode.NotFound, ReasonCode.ImageNotFound, r.Message),
            RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied => new DaemonException(StatusCode.PermissionDenied, ReasonCode.ImageRegistryError, r.Message),
            RegistryErrorKind.Unavailable => new DaemonException(StatusCode.Unavailable, ReasonCode.ImageRegistryError, r.Message),
            _ => new DaemonException(StatusCode.FailedPrecondition, ReasonCode.ImageInvalid, r.Message),
        },
        ImageNotFoundException => new DaemonException(StatusCode.NotFound, ReasonCode.ImageNotFound, ex.Message),
        ImageTooLargeException => new DaemonException(StatusCode.FailedPrecondition, ReasonCode.ImageTooLarge, ex.Message),
        ImageStoreFullException => new DaemonException(StatusCode.ResourceExhausted, ReasonCode.ImageStoreFull, ex.Message),
        ImageInUseException => new DaemonException(StatusCode.FailedPrecondition, ReasonCode.FailedPrecondition, ex.Message),
        ImagePlatformException or ImageArchiveException or LayerRejectedException =>
            new DaemonException(StatusCode.FailedPrecondition, ReasonCode.ImageInvalid, ex.Message),
        FormatException => new DaemonException(StatusCode.FailedPrecondition, ReasonCode.ImageInvalid, "invalid image: " + ex.Message),
        Cleanroom.HostProcesses.HostCommandException => new DaemonException(StatusCode.Internal, ReasonCode.Internal, "building the root file system failed: " + ex.Message),
        _ => null,
    };
}
