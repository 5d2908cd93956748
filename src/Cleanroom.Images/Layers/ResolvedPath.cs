namespace Cleanroom.Images.Layers;

/// <summary>
/// An entry path after its parent directories were resolved inside the image root. Every directory on the way to
/// <see cref="Host"/> is real (no symlinks); the final component is whatever is there now, or nothing.
/// </summary>
/// <param name="Host">The path on the host, under the image root.</param>
/// <param name="Relative">The same node relative to the image root, symlinks in its parents resolved.</param>
/// <param name="ParentHost">The real directory that holds the node.</param>
internal readonly record struct ResolvedPath(string Host, string Relative, string ParentHost);
