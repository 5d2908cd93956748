using Cleanroom.Gateway.Upstream;

namespace Cleanroom.Gateway.Routes.PyPi;

/// <summary>Reads a metadata body whole, refusing one larger than a bound (the upstream is not trusted to be small).</summary>
internal static class BoundedBody
{
    /// <summary>The whole of <paramref name="body"/>; an <see cref="UpstreamFailedException"/> past <paramref name="max"/> bytes.</summary>
    public static async Task<byte[]> ReadAsync(Stream body, long max, string what, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 << 10];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > max)
            {
                throw new UpstreamFailedException($"the upstream's {what} is larger than {max} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}
