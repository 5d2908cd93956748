using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Reads the top level of a policy document (<c>version</c>, <c>repository</c>, <c>sandbox</c>) and assembles the
/// compiled policy when no section reported an error. The repository block is read first because relative output
/// paths resolve under its <c>path</c>, wherever the block sits in the file.
/// </summary>
internal static class PolicyDocumentReader
{
    public const int SupportedVersion = 1;

    public static CompiledPolicy? Read(YamlNode root, SchemaReader reader, PolicyCompileOptions options, KeyPath? basePath = null)
    {
        var path = basePath ?? KeyPath.Root;
        var document = reader.Mapping(root, path, "a mapping that starts with version: 1");
        if (document is null)
        {
            return null;
        }

        var keys = reader.Keys(document, path, "version", "repository", "sandbox");
        if (keys.TryGetValue("version", out var version))
        {
            ReadVersion(version.Value, path.Key("version"), reader);
        }
        else
        {
            reader.Missing(document, path, "version", "version: 1");
        }

        var repository = keys.TryGetValue("repository", out var repositoryEntry)
            ? RepositorySectionReader.Read(repositoryEntry.Value, path.Key("repository"), reader)
            : RepositorySettings.Default;

        SandboxSection? sandbox = null;
        if (keys.TryGetValue("sandbox", out var sandboxEntry))
        {
            sandbox = SandboxSectionReader.Read(sandboxEntry.Value, path.Key("sandbox"), reader, options, repository);
        }
        else
        {
            reader.Missing(document, path, "sandbox", "a sandbox mapping with at least image.ref");
        }

        if (sandbox is null || reader.Diagnostics.HasErrors)
        {
            return null;
        }

        return new CompiledPolicy(
            SupportedVersion,
            repository,
            sandbox.Image,
            sandbox.Resources,
            sandbox.Network,
            sandbox.DockerRequired,
            sandbox.Dependencies,
            sandbox.Services,
            sandbox.RunBefore);
    }

    private static void ReadVersion(YamlNode node, KeyPath path, SchemaReader reader)
    {
        if (node is not ScalarNode scalar || !scalar.TryGetInteger(out var version))
        {
            reader.Error(PolicyErrorKind.WrongType, node, path, "the version must be the number 1", "version: 1");
            return;
        }

        if (version != SupportedVersion)
        {
            reader.Error(PolicyErrorKind.UnsupportedVersion, node, path,
                $"policy version {version} is not supported by this cleanroom", "version: 1");
        }
    }
}
