using Cleanroom.Policy.Canonical;
using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Schema;

namespace Cleanroom.Policy;

/// <summary>
/// A validated, normalised policy: what the CLI sends to the daemon and what every backend, the firewall, the DNS
/// filter and the gateway read. Immutable. Its <see cref="Hash"/> is the SHA-256 of a canonical serialisation, so
/// it ignores comments, key order, whitespace and rule order in the source file and changes with any change in
/// meaning. Two compiled policies are equal exactly when their hashes are.
/// </summary>
public sealed class CompiledPolicy : IEquatable<CompiledPolicy>
{
    /// <summary>The label used in diagnostics about a compiled payload (it has no file).</summary>
    public const string CompiledSourceName = "<compiled policy>";

    private readonly string _canonicalJson;

    internal CompiledPolicy(
        int version,
        RepositorySettings repository,
        ImageReference image,
        ResourceFloors resources,
        NetworkPolicy network,
        bool dockerRequired,
        SetupBlockGroup dependencies,
        SetupBlockGroup services,
        CommandSpec? runBefore)
    {
        Version = version;
        Repository = repository;
        Image = image;
        Resources = resources;
        Network = network;
        DockerRequired = dockerRequired;
        Dependencies = dependencies;
        Services = services;
        RunBefore = runBefore;
        _canonicalJson = CanonicalPolicyWriter.Write(this);
        Hash = PolicyHasher.Hash(_canonicalJson);
    }

    /// <summary>The schema version (1).</summary>
    public int Version { get; }

    /// <summary>How the repository is checked out.</summary>
    public RepositorySettings Repository { get; }

    /// <summary>The base image.</summary>
    public ImageReference Image { get; }

    /// <summary>Minimum resources.</summary>
    public ResourceFloors Resources { get; }

    /// <summary>Egress rules and the matching function.</summary>
    public NetworkPolicy Network { get; }

    /// <summary>Whether Docker must run inside the sandbox.</summary>
    public bool DockerRequired { get; }

    /// <summary>Dependency blocks, run after checkout.</summary>
    public SetupBlockGroup Dependencies { get; }

    /// <summary>Service blocks, run after the dependency blocks.</summary>
    public SetupBlockGroup Services { get; }

    /// <summary>The command run before every execution, if any.</summary>
    public CommandSpec? RunBefore { get; }

    /// <summary>Lowercase hex SHA-256 of <see cref="ToCanonicalJson"/>.</summary>
    public string Hash { get; }

    /// <summary>Shorthand for <see cref="NetworkPolicy.Evaluate"/>.</summary>
    public NetworkDecision Evaluate(string host, int port) => Network.Evaluate(host, port);

    /// <summary>The exact bytes (as UTF-8) that <see cref="Hash"/> is computed over.</summary>
    public string ToCanonicalJson() => _canonicalJson;

    /// <summary>
    /// The wire form: <c>{"hash":"…","policy":{…canonical document…}}</c>. Read it back with
    /// <see cref="FromJson"/>, which re-validates everything and checks the hash.
    /// </summary>
    public string ToJson() => "{\"hash\":\"" + Hash + "\",\"policy\":" + _canonicalJson + "}";

    /// <summary>
    /// This policy with a different network default. <see cref="NetworkDefault.Allow"/> is what
    /// <c>--dangerously-allow-all</c> produces; the hash changes accordingly.
    /// </summary>
    public CompiledPolicy WithNetworkDefault(NetworkDefault networkDefault) => networkDefault == Network.Default
        ? this
        : new CompiledPolicy(Version, Repository, Image, Resources, new NetworkPolicy(networkDefault, Network.Allow, Network.Deny),
            DockerRequired, Dependencies, Services, RunBefore);

    /// <summary>
    /// Reads a payload written by <see cref="ToJson"/>, re-validating it with the same rules as a policy file
    /// (except that input files are not looked up: the daemon never reads the repository) and checking that the
    /// embedded hash matches the content.
    /// </summary>
    /// <exception cref="PolicyValidationException">The payload is malformed, invalid, or its hash does not match.</exception>
    public static CompiledPolicy FromJson(string json)
    {
        var result = TryFromJson(json);
        return result.Policy ?? throw new PolicyValidationException(result.Diagnostics);
    }

    /// <summary>Like <see cref="FromJson"/>, but returns the diagnostics instead of throwing.</summary>
    public static PolicyCompileResult TryFromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var diagnostics = new DiagnosticBag();
        var policy = CompiledPayloadReader.Read(json, diagnostics);
        return new PolicyCompileResult(diagnostics.HasErrors ? null : policy, diagnostics.ToImmutable());
    }

    /// <inheritdoc/>
    public bool Equals(CompiledPolicy? other) => other is not null && other.Hash == Hash;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CompiledPolicy);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Hash);

    /// <inheritdoc/>
    public override string ToString() => $"policy {Hash}";
}
