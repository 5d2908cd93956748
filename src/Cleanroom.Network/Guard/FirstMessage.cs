namespace Cleanroom.Network.Guard;

/// <summary>What the guard made of the first bytes a guest sent on a connection.</summary>
internal enum FirstMessageKind
{
    /// <summary>Not decided yet: the bytes so far are the start of a message that names a host.</summary>
    NeedMore,

    /// <summary>A complete TLS ClientHello; <see cref="FirstMessage.Names"/> holds its server name, if it sent one.</summary>
    TlsClientHello,

    /// <summary>A complete HTTP/1.x request head; <see cref="FirstMessage.Names"/> holds its Host (and target authority).</summary>
    Http,

    /// <summary>Neither TLS nor HTTP: a protocol that cannot name a host (SSH, a database, ...).</summary>
    Other,

    /// <summary>Starts like TLS or HTTP but breaks its rules (lying lengths, duplicate Host, ...): refused.</summary>
    Malformed,
}

/// <summary>
/// The classification of a guest's first message. <paramref name="Names"/> are normalised host names (lower case, no
/// trailing dot), each of which must be allowed; <paramref name="Problem"/> says what was wrong with a
/// <see cref="FirstMessageKind.Malformed"/> one (fixed text, never guest bytes).
/// </summary>
internal sealed record FirstMessage(FirstMessageKind Kind, IReadOnlyList<string> Names, string? Problem = null)
{
    public static readonly FirstMessage NeedMore = new(FirstMessageKind.NeedMore, []);

    public static readonly FirstMessage Other = new(FirstMessageKind.Other, []);

    public static FirstMessage Malformed(string problem) => new(FirstMessageKind.Malformed, [], problem);
}
