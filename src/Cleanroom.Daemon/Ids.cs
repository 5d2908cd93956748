using Cleanroom.Escaping;

namespace Cleanroom.Daemon;

/// <summary>Sandbox and execution ids: 26-character lowercase ULIDs (sortable by creation time).</summary>
public static class Ids
{
    public static string New() => Ulid.NewUlid().ToString().ToLowerInvariant();

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
