using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.Images.Layers;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// Git blob ids computed in-process, as <c>git hash-object</c> without filters: the repository's hash (SHA-1, or
/// SHA-256 for a SHA-256 repository) over <c>"blob LEN\0"</c> and the content. A symlink's blob is its target, as git
/// stores it. Spawning git per file would dominate a copy-out of thousands of files.
/// </summary>
internal static class GitBlob
{
    /// <summary>Git's mode for a regular file, an executable file and a symlink.</summary>
    public const string RegularMode = "100644";

    /// <inheritdoc cref="RegularMode"/>
    public const string ExecutableMode = "100755";

    /// <inheritdoc cref="RegularMode"/>
    public const string SymlinkMode = "120000";

    /// <summary>The owner's execute bit (0100), the one git records.</summary>
    public const uint UserExecute = 0x40;

    private const int BufferBytes = 1 << 20;

    /// <summary>The repository's hash, told by the length of one of its object ids.</summary>
    public static HashAlgorithmName AlgorithmOf(string objectId) => objectId.Length == 64 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1;

    /// <summary>A hash primed with the blob header for <paramref name="length"/> bytes of content.</summary>
    public static IncrementalHash Start(HashAlgorithmName algorithm, long length)
    {
        var hash = IncrementalHash.CreateHash(algorithm);
        hash.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {length}\0")));
        return hash;
    }

    /// <summary>The id in lower-case hex.</summary>
    public static string Finish(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetHashAndReset());

    /// <summary>The blob id of <paramref name="content"/>.</summary>
    public static string Of(HashAlgorithmName algorithm, ReadOnlySpan<byte> content)
    {
        using var hash = Start(algorithm, content.Length);
        hash.AppendData(content);
        return Finish(hash);
    }

    /// <summary>
    /// Git's mode and blob id of the regular file or symlink at <paramref name="host"/> (a path whose parents are
    /// known to be real directories), or null for anything else.
    /// </summary>
    public static (string Mode, string Blob)? OfNode(HashAlgorithmName algorithm, string host)
    {
        switch (LibC.GetKind(host))
        {
            case NodeKind.Symlink:
                return (SymlinkMode, Of(algorithm, FileNameBytes.Encode(LibC.ReadLink(host))));
            case NodeKind.RegularFile:
                var executable = (LibC.GetStatus(host).Mode & UserExecute) != 0;
                return (executable ? ExecutableMode : RegularMode, OfFile(algorithm, host));
            default:
                return null;
        }
    }

    private static string OfFile(HashAlgorithmName algorithm, string host)
    {
        // Opened through libc: the name need not be UTF-8 (see FileNameBytes), and a symlink swapped in is refused.
        using var file = LibC.OpenRead(host);
        var length = RandomAccess.GetLength(file);
        using var hash = Start(algorithm, length);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            long offset = 0;
            while (offset < length)
            {
                var read = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(BufferBytes, length - offset)), offset);
                if (read == 0)
                {
                    throw new IOException($"'{UntrustedText.Escape(host)}' became shorter while it was read");
                }

                hash.AppendData(buffer, 0, read);
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Finish(hash);
    }
}
