namespace Cleanroom.Gateway.Routes.GoProxy;

/// <summary>The files of the Go module proxy protocol the <c>/goproxy/</c> route serves.</summary>
internal enum GoProxyFile
{
    /// <summary><c>MODULE/@v/list</c>: the known versions, one a line (mutable).</summary>
    List,

    /// <summary><c>MODULE/@latest</c>: the latest version's info (mutable).</summary>
    Latest,

    /// <summary><c>MODULE/@v/VERSION.info</c>: version and time as JSON (immutable).</summary>
    Info,

    /// <summary><c>MODULE/@v/VERSION.mod</c>: the version's go.mod (immutable).</summary>
    Mod,

    /// <summary><c>MODULE/@v/VERSION.zip</c>: the version's source (immutable).</summary>
    Zip,

    /// <summary><c>sumdb/NAME/supported</c>: answered by the gateway itself.</summary>
    SumDbSupported,

    /// <summary><c>sumdb/NAME/latest</c>: the checksum database's signed tree head (mutable).</summary>
    SumDbLatest,

    /// <summary><c>sumdb/NAME/lookup/MODULE@VERSION</c>: a record and a signed tree head (mutable).</summary>
    SumDbLookup,

    /// <summary><c>sumdb/NAME/tile/H/L/N[.p/W]</c>: a tile of the log, fixed once published (immutable).</summary>
    SumDbTile,
}
