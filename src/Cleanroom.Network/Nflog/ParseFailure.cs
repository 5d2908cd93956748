namespace Cleanroom.Network.Nflog;

/// <summary>Why a logged-packet message was skipped. Each one is counted as malformed; none stops the reader.</summary>
internal enum ParseFailure
{
    None,

    /// <summary>Shorter than struct nfgenmsg, or not version 0.</summary>
    BadGenericHeader,

    /// <summary>For a group this socket did not bind.</summary>
    WrongGroup,

    /// <summary>An attribute length below its header or past the message, or too many attributes.</summary>
    BadAttributes,

    /// <summary>The same attribute twice.</summary>
    DuplicateAttribute,

    /// <summary>No NFULA_PACKET_HDR, or one shorter than its struct.</summary>
    MissingPacketHeader,

    /// <summary>A prefix without its terminating NUL, with an early NUL, too long, or not printable ASCII.</summary>
    BadPrefix,

    /// <summary>An interface index attribute that is not 4 bytes or does not fit an int.</summary>
    BadInterfaceIndex,

    /// <summary>No NFULA_PAYLOAD: nothing to read the destination from (copy mode not "packet").</summary>
    MissingPayload,

    /// <summary>The payload is neither IPv4 nor IPv6, or disagrees with the message's family.</summary>
    NotIp,

    /// <summary>The IP header is cut off or declares a length it does not have.</summary>
    TruncatedIpHeader,
}
