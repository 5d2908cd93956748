namespace Cleanroom.Gateway.Routes.GoProxy;

/// <summary>A checked <c>/goproxy/HOST/…</c> request: which file, and the path to ask the upstream for.</summary>
/// <param name="File">The protocol file asked for.</param>
/// <param name="UpstreamPath">
/// The path on the upstream, rebuilt from checked parts (so only characters of the grammar, no escapes): on the
/// proxy host for module files, on the checksum database's own host for <c>sumdb/</c> files.
/// </param>
internal sealed record GoProxyTarget(GoProxyFile File, string UpstreamPath)
{
    /// <summary>True for the checksum database's files (<c>sumdb/NAME/…</c>).</summary>
    public bool IsSumDb => File is GoProxyFile.SumDbSupported or GoProxyFile.SumDbLatest or GoProxyFile.SumDbLookup or GoProxyFile.SumDbTile;

    /// <summary>
    /// True when the answer can change (version lists, latest, sumdb heads and lookups): stored with the metadata TTL.
    /// Everything else names one immutable thing and is kept for as long as the cache keeps it.
    /// </summary>
    public bool IsMutable => File is GoProxyFile.List or GoProxyFile.Latest or GoProxyFile.SumDbLatest or GoProxyFile.SumDbLookup;

    /// <summary>The kind part of the cache key.</summary>
    public string Kind => File switch
    {
        GoProxyFile.List => "list",
        GoProxyFile.Latest => "latest",
        GoProxyFile.Info => "info",
        GoProxyFile.Mod => "mod",
        GoProxyFile.Zip => "zip",
        GoProxyFile.SumDbLatest => "sumdb-latest",
        GoProxyFile.SumDbLookup => "sumdb-lookup",
        GoProxyFile.SumDbTile => "sumdb-tile",
        _ => "sumdb-supported",
    };
}
