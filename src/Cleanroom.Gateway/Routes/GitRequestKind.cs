namespace Cleanroom.Gateway.Routes;

/// <summary>What a git upload-pack exchange is, for deciding how it is cached.</summary>
internal enum GitRequestKind
{
    /// <summary>A ref advertisement (<c>info/refs</c>, v2 <c>ls-refs</c>): passed through, kept with a TTL for outages.</summary>
    Refs,

    /// <summary>A v0/v1 negotiation or a v2 <c>fetch</c>: its answer depends only on the body, cached immutable.</summary>
    Pack,

    /// <summary>Anything else (another v2 command): passed through uncached.</summary>
    Other,
}
