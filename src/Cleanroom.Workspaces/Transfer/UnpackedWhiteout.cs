namespace Cleanroom.Workspaces.Transfer;

/// <summary>A whiteout entry of a changes archive: what it asks to delete, which the unpacker records rather than applies.</summary>
/// <param name="Path">The deleted path, or for an opaque marker the directory whose earlier content is gone.</param>
/// <param name="Opaque">True for <c>dir/.wh..wh..opq</c>: everything in the directory not in the archive is deleted.</param>
internal readonly record struct UnpackedWhiteout(string Path, bool Opaque);
