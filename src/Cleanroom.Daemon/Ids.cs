using Cleanroom.Escaping;

namespace Cleanroom.Daemon;

/// <summary>Sandbox and execution ids: 26-character lowercase ULIDs (sortable by creation time).</summary>
public static class Ids
{
    private static readonly Lock Gate = new();
    private static Ulid _last;

    /// <summary>
    /// A new id, greater than every id this process made before it. A ULID's random part makes two ids of one
    /// millisecond come in either order, and lists sort "newest first" by creation time, then id: an id made in the same
    /// millisecond as the last (or while the clock stepped back) is the last one plus one instead.
    /// </summary>
    public static string New()
    {
        var fresh = Ulid.NewUlid();
        lock (Gate)
        {
            _last = fresh.CompareTo(_last) > 0 ? fresh : Next(_last) ?? fresh;
            return _last.ToString().ToLowerInvariant();
        }
    }

    /// <summary>The ULID one above <paramref name="id"/> (its 80-bit random part plus one); null if that part is full.</summary>
    private static Ulid? Next(Ulid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        for (var i = 15; i >= 6; i--)
        {
            if (++bytes[i] != 0)
            {
                return new Ulid(bytes);
            }
        }

        return null;
    }

    /// <summary>True for a well-formed id; used to reject junk before it reaches paths or queries.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: 26 } && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'z')) && Ulid.TryParse(id.ToUpperInvariant(), out _);

    /// <summary>
    /// An id a client sent, fit to put in an error message or a log line: a well-formed id as it is, anything else
    /// escaped and cut short (a client's "id" could otherwise start a new log line or drive the terminal that prints
    /// the error).
    /// </summary>
    public static string Describe(string? id) => IsValid(id) ? id! : "'" + UntrustedText.Escape(id ?? string.Empty, 64) + "'";
}
