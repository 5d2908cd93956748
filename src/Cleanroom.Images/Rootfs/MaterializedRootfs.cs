namespace Cleanroom.Images.Rootfs;

/// <summary>A finished root file system image and what went into it.</summary>
public sealed record MaterializedRootfs(string Path, long ContentBytes, long Entries, long FilesystemBytes);
