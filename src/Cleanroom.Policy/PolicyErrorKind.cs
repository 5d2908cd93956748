namespace Cleanroom.Policy;

/// <summary>
/// The specific problem behind a <see cref="PolicyDiagnostic"/>. The snake_case form of each name
/// (<see cref="PolicyErrorKindNames.ToSnakeCase"/>) appears in JSON output and test fixtures, so names are stable.
/// </summary>
public enum PolicyErrorKind
{
    // Reading the file.

    /// <summary>No policy file was found where discovery looked, or the named file does not exist.</summary>
    PolicyNotFound,

    /// <summary>Both candidate files exist; the named one is ignored (warning).</summary>
    IgnoredPolicyFile,

    /// <summary>The file could not be read.</summary>
    UnreadableFile,

    /// <summary>
    /// The path is a symbolic link, a FIFO, a socket, a device or a directory, or a directory on the way to it is a
    /// link: a policy must be a regular file inside the repository.
    /// </summary>
    NotARegularFile,

    /// <summary>The file is larger than the 1 MiB limit.</summary>
    FileTooLarge,

    /// <summary>The bytes are not UTF-8.</summary>
    InvalidEncoding,

    // YAML structure.

    /// <summary>The text is not well-formed YAML.</summary>
    SyntaxError,

    /// <summary>The file holds no document.</summary>
    EmptyDocument,

    /// <summary>The file holds more than one YAML document.</summary>
    MultipleDocuments,

    /// <summary>Nesting is deeper than any policy needs.</summary>
    NestingTooDeep,

    /// <summary>More nodes than any policy needs, counting alias expansions (an alias bomb).</summary>
    TooManyNodes,

    /// <summary>A YAML tag other than the standard scalar tags.</summary>
    UnsupportedTag,

    /// <summary>A mapping key that is not a plain scalar.</summary>
    ComplexKey,

    /// <summary>The same key twice in one mapping.</summary>
    DuplicateKey,

    /// <summary>Reporting stopped after too many errors.</summary>
    TooManyErrors,

    // Schema.

    /// <summary>A key the schema does not define.</summary>
    UnknownKey,

    /// <summary>A required key is absent.</summary>
    MissingKey,

    /// <summary>A value of the wrong YAML type (a list where a string belongs, a string where a number belongs).</summary>
    WrongType,

    /// <summary>A value outside its set of allowed words.</summary>
    InvalidValue,

    /// <summary>A policy <c>version</c> this build does not understand.</summary>
    UnsupportedVersion,

    /// <summary>A number outside its allowed range.</summary>
    OutOfRange,

    /// <summary>A size that is not a whole number with a unit such as <c>8GiB</c>.</summary>
    InvalidSize,

    /// <summary>An image reference that is not <c>repository[:tag]@sha256:digest</c>.</summary>
    InvalidImageRef,

    /// <summary>An image reference without a digest (warning).</summary>
    UnpinnedImage,

    // Network rules.

    /// <summary>A port that is not a whole number from 1 to 65535.</summary>
    InvalidPort,

    /// <summary>A port range; each port must be listed.</summary>
    PortRange,

    /// <summary>An allow rule without a port.</summary>
    MissingPort,

    /// <summary>A host that is not a valid host name, wildcard, IP address or CIDR block.</summary>
    InvalidHost,

    /// <summary>A URL where a bare host is expected.</summary>
    UrlNotHost,

    /// <summary>An address range where a host is expected.</summary>
    HostRange,

    /// <summary>An IPv6 address in the <c>host:port</c> shorthand.</summary>
    Ipv6Shorthand,

    /// <summary>A CIDR block with a bad prefix or with host bits set.</summary>
    InvalidCidr,

    /// <summary><c>default: allow</c> without the explicit override.</summary>
    DefaultAllowNotPermitted,

    /// <summary>The same host in two rules of one list; their ports were merged (warning).</summary>
    DuplicateRule,

    /// <summary>An allow rule that a deny rule makes unreachable.</summary>
    ShadowedRule,

    // Dependency and service blocks.

    /// <summary>A block name with characters other than letters, digits, '.', '_' and '-'.</summary>
    InvalidBlockName,

    /// <summary>Two blocks with the same name.</summary>
    DuplicateBlockName,

    /// <summary>A blank command or an empty argv.</summary>
    EmptyCommand,

    /// <summary>An environment variable name that is not <c>[A-Za-z_][A-Za-z0-9_]*</c>.</summary>
    InvalidEnvName,

    /// <summary>A path that is malformed or escapes its root.</summary>
    InvalidPath,

    /// <summary>An input pattern with unsupported glob syntax.</summary>
    InvalidGlob,

    /// <summary>An input file or glob that matches nothing in the repository.</summary>
    InputNotFound,

    /// <summary><c>reuse: portable</c> on a group whose block has no inputs.</summary>
    PortableNeedsInputs,

    /// <summary>An output that is <c>/</c> or the repository root.</summary>
    RootOutput,

    /// <summary>An output with glob characters.</summary>
    OutputGlob,

    /// <summary>Two outputs that are equal or nested.</summary>
    OverlappingOutput,

    // Compiled payloads.

    /// <summary>A compiled payload whose hash does not match its content.</summary>
    HashMismatch,
}
