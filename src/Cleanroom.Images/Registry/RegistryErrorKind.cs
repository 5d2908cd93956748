namespace Cleanroom.Images.Registry;

/// <summary>What went wrong talking to a registry; callers map these to reason codes and decide what to keep.</summary>
public enum RegistryErrorKind
{
    /// <summary>The repository, tag, manifest or blob does not exist.</summary>
    NotFound,

    /// <summary>The registry wants credentials we do not have, or refused the ones we sent.</summary>
    Unauthorized,

    /// <summary>The registry knows who we are and refuses access (403 / DENIED).</summary>
    Denied,

    /// <summary>The bytes served do not hash to the digest that names them.</summary>
    DigestMismatch,

    /// <summary>The bytes served are more or fewer than the descriptor says.</summary>
    SizeMismatch,

    /// <summary>The registry answered something the distribution spec does not allow, or too much of it.</summary>
    Protocol,

    /// <summary>The registry could not be reached or kept failing (connection errors, 5xx, 429, timeouts) after retries.</summary>
    Unavailable,
}
