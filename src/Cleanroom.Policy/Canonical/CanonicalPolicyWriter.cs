namespace Cleanroom.Policy.Canonical;

/// <summary>
/// Writes a compiled policy as its canonical document: the same schema as cleanroom.yaml, fully normalised and
/// with every default written out, so that reading it back yields the same policy and two files that mean the
/// same thing produce the same bytes. Member order is fixed here; collections whose order carries no meaning
/// (rules, ports, inputs, outputs, env) are already sorted in the model; block order is kept because blocks run
/// in that order. Changing this output changes every policy hash.
/// </summary>
internal static class CanonicalPolicyWriter
{
    public static string Write(CompiledPolicy policy)
    {
        var json = new CanonicalJsonWriter();
        json.StartObject();
        json.Name("version").Number(policy.Version);
        WriteRepository(json, policy.Repository);
        json.Name("sandbox").StartObject();
        json.Name("image").StartObject().Name("ref").String(policy.Image.Reference).EndObject();
        WriteResources(json, policy.Resources);
        WriteNetwork(json, policy.Network);
        json.Name("docker").StartObject().Name("required").Boolean(policy.DockerRequired).EndObject();
        WriteGroup(json, "dependencies", policy.Dependencies);
        WriteGroup(json, "services", policy.Services);
        json.Name("run").StartObject();
        if (policy.RunBefore is { } before)
        {
            json.Name("before");
            WriteCommand(json, before);
        }

        json.EndObject();
        json.EndObject();
        json.EndObject();
        return json.ToString();
    }

    private static void WriteRepository(CanonicalJsonWriter json, RepositorySettings repository) =>
        json.Name("repository").StartObject()
            .Name("enabled").Boolean(repository.Enabled)
            .Name("remote").String(repository.Remote)
            .Name("path").String(repository.Path)
            .Name("submodules").Boolean(repository.Submodules)
            .EndObject();

    private static void WriteResources(CanonicalJsonWriter json, ResourceFloors resources)
    {
        json.Name("resources").StartObject();
        if (resources.Vcpus is { } vcpus)
        {
            json.Name("vcpus").Number(vcpus);
        }

        if (resources.MemoryBytes is { } memory)
        {
            json.Name("memory").String(Text.ByteSize.Format(memory));
        }

        if (resources.DiskBytes is { } disk)
        {
            json.Name("disk").String(Text.ByteSize.Format(disk));
        }

        json.EndObject();
    }

    private static void WriteNetwork(CanonicalJsonWriter json, NetworkPolicy network)
    {
        json.Name("network").StartObject();
        json.Name("default").String(network.Default == NetworkDefault.Allow ? "allow" : "deny");
        WriteRules(json, "allow", network.Allow);
        WriteRules(json, "deny", network.Deny);
        json.EndObject();
    }

    private static void WriteRules(CanonicalJsonWriter json, string name, IEnumerable<NetworkRule> rules)
    {
        json.Name(name).StartArray();
        foreach (var rule in rules)
        {
            json.StartObject().Name("host").String(rule.Host.Value);
            if (!rule.AllPorts)
            {
                json.Name("ports").StartArray();
                foreach (var port in rule.Ports)
                {
                    json.Number(port);
                }

                json.EndArray();
            }

            json.EndObject();
        }

        json.EndArray();
    }

    private static void WriteGroup(CanonicalJsonWriter json, string name, SetupBlockGroup group)
    {
        json.Name(name).StartObject();
        json.Name("reuse").String(group.Reuse == CacheReuse.Portable ? "portable" : "exact");
        json.Name("blocks").StartArray();
        foreach (var block in group.Blocks)
        {
            json.StartObject();
            json.Name("name").String(block.Name);
            json.Name("command");
            WriteCommand(json, block.Command);
            json.Name("inputs").StartObject().Name("files").StringArray(block.InputFiles).EndObject();
            json.Name("env").StartObject();
            foreach (var (key, value) in block.Environment)
            {
                json.Name(key).String(value);
            }

            json.EndObject();
            json.Name("outputs").StartObject()
                .Name("dirs").StringArray(block.OutputDirectories)
                .Name("files").StringArray(block.OutputFiles)
                .EndObject();
            json.EndObject();
        }

        json.EndArray();
        json.EndObject();
    }

    private static void WriteCommand(CanonicalJsonWriter json, CommandSpec command)
    {
        if (command.Script is { } script)
        {
            json.String(script);
        }
        else
        {
            json.StringArray(command.Argv);
        }
    }
}
