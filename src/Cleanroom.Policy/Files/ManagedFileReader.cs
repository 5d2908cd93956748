namespace Cleanroom.Policy.Files;

/// <summary>
/// The fallback of <see cref="NoFollowFileReader"/> where its Linux calls are not available: links anywhere below the
/// base and directories are refused by looking first, but the look and the open are separate steps, and a FIFO
/// cannot be told from a file, so only the Linux reader also guarantees that a swap or a FIFO cannot stall it.
/// </summary>
internal static class ManagedFileReader
{
    public static FileReadResult Read(string baseDirectory, IReadOnlyList<string> components, int maxBytes)
    {
        var path = baseDirectory;
        for (var index = 0; index < components.Count; index++)
        {
            path = Path.Join(path, components[index]);
            var entry = new FileInfo(path);
            if (entry.LinkTarget is not null)
            {
                return new FileReadResult.Refused(index, FileNodeKind.SymbolicLink);
            }

            var isDirectory = Directory.Exists(path);
            if (isDirectory != (index < components.Count - 1))
            {
                return new FileReadResult.Refused(index, isDirectory ? FileNodeKind.Directory : FileNodeKind.Other);
            }
        }

        try
        {
            using var stream = File.OpenRead(path);
            if (stream.Length > maxBytes)
            {
                return new FileReadResult.TooLarge(stream.Length);
            }

            var buffer = new byte[maxBytes + 1];
            var total = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return total > maxBytes ? new FileReadResult.TooLarge(total) : new FileReadResult.Read(buffer[..total]);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return new FileReadResult.Failed(components.Count - 1, exception.Message);
        }
    }
}
