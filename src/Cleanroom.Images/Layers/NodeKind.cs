namespace Cleanroom.Images.Layers;

/// <summary>What is at a path, seen without following a final symlink.</summary>
internal enum NodeKind
{
    Missing,
    Directory,
    Symlink,
    RegularFile,

    /// <summary>A device node, FIFO or socket.</summary>
    Special,
}
