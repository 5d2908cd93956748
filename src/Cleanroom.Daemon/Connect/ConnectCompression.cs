using System.IO.Compression;
using Cleanroom.Escaping;
using Grpc.Core;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// Connect's compression: <c>gzip</c> (or none, <c>identity</c>) for requests, in <c>Content-Encoding</c> (unary),
/// <c>Connect-Content-Encoding</c> (streams) or the <c>compression</c> query parameter (GET); and for responses when the
/// client's <c>Accept-Encoding</c> / <c>Connect-Accept-Encoding</c> lists gzip. A compressed request is inflated only
/// up to the message size limit, so a small body that inflates to gigabytes costs at most that limit.
/// </summary>
internal static class ConnectCompression
{
    /// <summary>The one compression offered, as the Accept-Encoding headers name it.</summary>
    public const string Gzip = "gzip";

    private const int ChunkBytes = 64 << 10;

    /// <summary>
    /// True for <c>gzip</c>, false for none or <c>identity</c>; any other name is refused with <c>unimplemented</c>
    /// (the caller has set the header that lists what is accepted).
    /// </summary>
    public static bool IsGzip(string name, string where)
    {
        if (name.Length == 0 || string.Equals(name, "identity", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (string.Equals(name, Gzip, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        throw new ConnectException(StatusCode.Unimplemented, ReasonCode.InvalidRequest, $"{where} {UntrustedText.Quote(name)} is not supported; this server accepts gzip or identity");
    }

    /// <summary>
    /// True when an Accept-Encoding value (<c>gzip, br;q=0.5</c>) accepts gzip: listed with a q above 0, or not listed
    /// and <c>*</c> is, with a q above 0.
    /// </summary>
    public static bool Accepts(string acceptEncoding)
    {
        bool? gzip = null, any = null;
        foreach (var item in acceptEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = item.Split(';', StringSplitOptions.TrimEntries);
            var wanted = !parts.Skip(1).Any(IsZeroQuality);
            if (string.Equals(parts[0], Gzip, StringComparison.OrdinalIgnoreCase))
            {
                gzip ??= wanted;
            }
            else if (parts[0] == "*")
            {
                any ??= wanted;
            }
        }

        return gzip ?? any ?? false;
    }

    private static bool IsZeroQuality(string parameter)
    {
        var p = parameter.Replace(" ", "", StringComparison.Ordinal);
        return p.StartsWith("q=", StringComparison.OrdinalIgnoreCase) && p.Length > 2 && p[2..].TrimEnd('0') is "" or "0.";
    }

    /// <summary>
    /// Inflates a gzip request message, refusing it with <c>resource_exhausted</c> as soon as it passes
    /// <paramref name="maxBytes"/>: memory grows with what is inflated up to the limit, never past it.
    /// </summary>
    public static byte[] Decompress(byte[] compressed, int maxBytes)
    {
        using var input = new GZipStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
        using var output = new MemoryStream();
        var chunk = new byte[ChunkBytes];
        try
        {
            int read;
            while ((read = input.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (output.Length + read > maxBytes)
                {
                    throw new ConnectException(StatusCode.ResourceExhausted, ReasonCode.RequestTooLarge, $"the request message inflates to more than {maxBytes} bytes (the limit) from {compressed.Length} gzip bytes");
                }

                output.Write(chunk, 0, read);
            }
        }
        catch (InvalidDataException)
        {
            throw ConnectException.InvalidArgument($"the request message is not valid gzip ({compressed.Length} bytes)");
        }

        return output.ToArray();
    }

    public static byte[] Compress(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
