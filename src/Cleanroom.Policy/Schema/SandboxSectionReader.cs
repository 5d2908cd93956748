using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>Reads the <c>sandbox</c> block by delegating each key to its section reader.</summary>
internal static class SandboxSectionReader
{
    private static readonly string[] Keys =
        ["image", "resources", "network", "docker", "dependencies", "services", "run"];

    public static SandboxSection? Read(
        YamlNode node, KeyPath path, SchemaReader reader, PolicyCompileOptions options, RepositorySettings repository)
    {
        var mapping = reader.Mapping(node, path, "a mapping with image, resources, network, docker, dependencies, services and run");
        if (mapping is null)
        {
            return null;
        }

        var keys = reader.Keys(mapping, path, Keys);

        ImageReference? image = null;
        if (keys.TryGetValue("image", out var imageEntry))
        {
            image = ImageSectionReader.Read(imageEntry.Value, path.Key("image"), reader);
        }
        else
        {
            reader.Missing(mapping, path, "image", "image: {ref: repository@sha256:<digest>}");
        }

        var resources = keys.TryGetValue("resources", out var resourcesEntry)
            ? ResourcesSectionReader.Read(resourcesEntry.Value, path.Key("resources"), reader)
            : ResourceFloors.None;

        var network = keys.TryGetValue("network", out var networkEntry)
            ? NetworkSectionReader.Read(networkEntry.Value, path.Key("network"), reader, options)
            : new NetworkPolicy(NetworkDefault.Deny, [], []);

        var docker = keys.TryGetValue("docker", out var dockerEntry) && ReadDocker(dockerEntry.Value, path.Key("docker"), reader);

        var setup = new SetupSectionReader(reader, options, repository.Path);
        var dependencies = keys.TryGetValue("dependencies", out var dependenciesEntry)
            ? setup.ReadGroup(dependenciesEntry.Value, path.Key("dependencies"))
            : SetupBlockGroup.Empty;
        var services = keys.TryGetValue("services", out var servicesEntry)
            ? setup.ReadGroup(servicesEntry.Value, path.Key("services"))
            : SetupBlockGroup.Empty;
        setup.CheckOutputsDoNotOverlap();

        var runBefore = keys.TryGetValue("run", out var runEntry) ? ReadRun(runEntry.Value, path.Key("run"), reader) : null;

        return image is null
            ? null
            : new SandboxSection(image, resources, network, docker, dependencies, services, runBefore);
    }

    private static bool ReadDocker(YamlNode node, KeyPath path, SchemaReader reader)
    {
        var mapping = reader.Mapping(node, path, "docker: {required: true}");
        if (mapping is null)
        {
            return false;
        }

        var keys = reader.Keys(mapping, path, "required");
        return keys.TryGetValue("required", out var required) && reader.Boolean(required.Value, path.Key("required")) == true;
    }

    private static CommandSpec? ReadRun(YamlNode node, KeyPath path, SchemaReader reader)
    {
        var mapping = reader.Mapping(node, path, "run: {before: <command>}");
        if (mapping is null)
        {
            return null;
        }

        var keys = reader.Keys(mapping, path, "before");
        return keys.TryGetValue("before", out var before) ? CommandReader.Read(before.Value, path.Key("before"), reader) : null;
    }
}
