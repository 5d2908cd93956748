namespace Cleanroom.TestSupport;

/// <summary>A request a <see cref="LoopbackHttpServer"/> received, kept so tests can assert on what a client sent.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>A header's value (names are case-insensitive), or null when it was not sent.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
