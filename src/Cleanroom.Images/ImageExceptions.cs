namespace Cleanroom.Images;

/// <summary>No stored image matches what the user named.</summary>
public sealed class ImageNotFoundException(string message) : Exception(message);

/// <summary>The image cannot be removed: a sandbox boots from it.</summary>
public sealed class ImageInUseException(string message) : Exception(message);

/// <summary>The image is built for another platform than this host's guests.</summary>
public sealed class ImagePlatformException(string message) : Exception(message);

/// <summary>An import archive is not a docker-save or OCI layout tarball, or is inconsistent.</summary>
public sealed class ImageArchiveException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The image store has no room for an image, even with every unused image evicted.</summary>
public sealed class ImageStoreFullException(string message) : Exception(message);
