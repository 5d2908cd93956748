using System.Text;
using System.Text.Json;

namespace Cleanroom.Images.Registry;

/// <summary>
/// Bounded reads of whole response bodies (manifests, configs, tokens, error documents). Everything a registry sends
/// is untrusted: nothing is read past the size we are prepared to hold.
/// </summary>
internal static class ResponseBody
{
    /// <summary>Error bodies are a few hundred bytes; more is read no further.</summary>
    private const int MaxErrorBytes = 16 * 1024;

    /// <summary>How much of an error text goes into a message.</summary>
    private const int MaxErrorTextLength = 300;

    /// <summary>
    /// Reads the whole body, calling <paramref name="tooLarge"/> with the size seen as soon as it is known to pass
    /// <paramref name="limit"/> (from Content-Length, or while reading).
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpResponseMessage response, int limit, TimeSpan stall, Func<long, Exception> tooLarge, CancellationToken cancellationToken)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared > limit)
        {
            throw tooLarge(declared.Value);
        }

        using var guard = new StallGuard(stall, cancellationToken);
        await using var body = await OpenAsync(response, cancellationToken);
        var buffer = new byte[declared is { } d ? (int)Math.Min(d + 1, limit + 1L) : (int)Math.Min(64 * 1024, limit + 1L)];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total > limit)
                {
                    throw tooLarge(total);
                }

                Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, limit + 1L));
            }

            var read = await guard.ReadAsync(body, buffer.AsMemory(total));
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        if (total > limit)
        {
            throw tooLarge(total);
        }

        if (declared is { } expected && total != expected)
        {
            // HttpClient normally reports this itself; a short body is a broken connection, worth another try.
            throw new TransientRegistryFailure($"the response ended after {total} of {expected} bytes");
        }

        return total == buffer.Length ? buffer : buffer[..total];
    }

    /// <summary>
    /// What the registry said went wrong, for a message: the spec's <c>errors[].code: message</c> when the body is
    /// that JSON, else the start of the body with control characters removed, else "". Never throws.
    /// </summary>
    public static async Task<string> ErrorTextAsync(HttpResponseMessage response, TimeSpan stall, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await ReadAsync(response, MaxErrorBytes, stall, _ => new InvalidDataException(), cancellationToken);
        }
        catch (Exception ex) when (ex is TransientRegistryFailure or InvalidDataException or HttpRequestException or IOException)
        {
            return "";
        }

        return Describe(bytes);
    }

    /// <summary>See <see cref="ErrorTextAsync"/>.</summary>
    public static string Describe(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return "";
        }

        try
        {
            var body = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.RegistryErrorBody);
            var errors = body?.Errors?.Where(e => e is not null && (e.Code is not null || e.Message is not null)).Take(3).ToList();
            if (errors is { Count: > 0 })
            {
                return Clean(string.Join("; ", errors.Select(e => e.Code is null ? e.Message! : e.Message is null ? e.Code : $"{e.Code}: {e.Message}")));
            }
        }
        catch (JsonException)
        {
            // Not the spec's error document: fall back to the raw text below.
        }

        return Clean(Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, MaxErrorTextLength * 2)));
    }

    /// <summary>Untrusted text made safe for one line of a message or log: no control characters, bounded length.</summary>
    public static string Clean(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxErrorTextLength + 1));
        foreach (var c in text)
        {
            if (builder.Length >= MaxErrorTextLength)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString().Trim();
    }

    private static async Task<Stream> OpenAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsStreamAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new TransientRegistryFailure($"the connection broke before the response body ({ex.Message})", null, ex);
        }
    }
}
