using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Images;
using Cleanroom.Cli.Rendering;
using Cleanroom.Oci;
using Cleanroom.Policy;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom image bump-ref [SOURCE]</c>: pins the policy's <c>sandbox.image.ref</c> to the digest SOURCE names
/// now. SOURCE defaults to the current ref without its digest (so a pinned <c>repo:tag@sha256:…</c> follows its
/// tag), or to the starter image when the ref is empty. Only that one value changes in the file; comments, layout
/// and quoting stay as they were, and the file is replaced atomically only if it still compiles.
/// </summary>
internal sealed class ImageBumpRefCommand : Command
{
    private readonly Argument<string?> _source = ImageRefArgument.Create("The image to pin (default: the policy's current ref without its digest)", optional: true, name: "source");
    private readonly Option<string?> _policyPath = new("--policy-path", "--policy") { Description = "Edit this policy file instead of discovering cleanroom.yaml", HelpName = "file" };
    private readonly Option<string?> _chdir = new("--chdir", "-c") { Description = "The repository directory (default: the working directory)", HelpName = "dir" };
    private readonly JsonOption _json = new();

    public ImageBumpRefCommand(CliContext context, DaemonAccess daemon)
        : base("bump-ref", "Pin the policy's sandbox.image.ref to the image's current digest")
    {
        Aliases.Add("set-ref");
        Arguments.Add(_source);
        Options.Add(_policyPath);
        Options.Add(_chdir);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            if (FindPolicy(context, parse.GetValue(_chdir), parse.GetValue(_policyPath)) is not { } discovery)
            {
                return ExitCodes.Usage;
            }

            var path = discovery.PolicyPath!;
            // Read the way every policy read is: a regular file inside the repository, no links, bounded.
            if (PolicyFileReader.Read(path, discovery.RepositoryDirectory, out var readError) is not { } original)
            {
                context.Complain($"{path}: {readError!.Message}");
                return ExitCodes.Usage;
            }

            if (PolicyImageRef.Find(original, out var problem) is not { } current)
            {
                context.Complain($"{path}: {problem}");
                return ExitCodes.Usage;
            }

            if (ChooseSource(parse.GetValue(_source), current, out problem) is not { } source)
            {
                context.Complain($"{path}: {problem}");
                return ExitCodes.Usage;
            }

            var resolved = await connection.Images.ResolveImageAsync(new ResolveImageRequest { Ref = source.Reference }, cancellationToken: cancellationToken);
            var pinned = Pinned(source, resolved);
            var rewritten = current.WithValue(pinned);
            if (!rewritten.AsSpan().SequenceEqual(original) && !Replace(context, discovery, rewritten))
            {
                return ExitCodes.Failure;
            }

            (string, string)[] result = [("policy", path), ("source", source.Reference), ("ref", pinned)];
            if (parse.GetValue(_json))
            {
                JsonOutput.WriteObject(context.Out, result);
            }
            else
            {
                foreach (var (key, value) in result)
                {
                    context.Out.WriteLine($"{key}={value}");
                }
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }

    /// <summary>The policy file, found the way <c>policy validate</c> finds it; null after saying why not.</summary>
    private static PolicyDiscoveryResult? FindPolicy(CliContext context, string? directory, string? policyFile)
    {
        if (directory is not null && !Directory.Exists(directory))
        {
            context.Complain($"directory {directory} does not exist (-c/--chdir)");
            return null;
        }

        var discovery = PolicyDiscovery.Discover(directory ?? Environment.CurrentDirectory, policyFile);
        if (discovery.PolicyPath is null)
        {
            context.Complain(discovery.Diagnostics.FirstOrDefault()?.Message ?? "no policy file found");
            return null;
        }

        return discovery;
    }

    /// <summary>SOURCE when given; else the current ref following its tag; else the starter image.</summary>
    private static ImageReference? ChooseSource(string? given, PolicyImageRef current, out string problem)
    {
        problem = string.Empty;
        if (given is not null)
        {
            return ImageReference.Parse(given.Trim());
        }

        if (current.IsNull)
        {
            return ImageReference.Parse(StarterPolicy.DefaultImage);
        }

        if (ImageReference.Parse(current.Value, out var reason) is not { } reference)
        {
            problem = $"the current sandbox.image.ref '{current.Value}' is not a valid image reference ({reason}); name the image to pin: cleanroom image bump-ref IMAGE:TAG";
            return null;
        }

        // With a tag, the digest is dropped so the tag is resolved afresh. Without one there is nothing to follow:
        // the ref is resolved as it is, which keeps it where it is rather than silently moving it to :latest.
        return reference.Tag is { } tag ? ImageReference.Parse(reference.Repository + ":" + tag) : reference;
    }

    /// <summary><c>repo:tag@sha256:…</c> when the source has a tag, so the next bump knows what to follow; else <c>repo@sha256:…</c>.</summary>
    private static string Pinned(ImageReference source, ResolveImageResponse resolved)
    {
        var repository = resolved.Repository.Length > 0 ? resolved.Repository : source.Repository;
        return source.Tag is { } tag ? $"{repository}:{tag}@{resolved.Digest}" : $"{repository}@{resolved.Digest}";
    }

    /// <summary>Writes the new file only if it still compiles as a policy; otherwise says why and leaves the old one.</summary>
    private static bool Replace(CliContext context, PolicyDiscoveryResult discovery, byte[] rewritten)
    {
        var path = discovery.PolicyPath!;
        PolicyLoadResult? check = null;
        bool replaced;
        try
        {
            replaced = AtomicFile.Replace(path, rewritten, candidate =>
            {
                check = PolicyLoader.Load(new PolicyLoadOptions { Directory = discovery.RepositoryDirectory, PolicyFile = candidate });
                return check.IsValid;
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Complain($"cannot write {path}: {ex.Message}");
            return false;
        }

        if (replaced)
        {
            return true;
        }

        context.Complain($"{path} was left unchanged: the policy with the new ref does not validate:");
        var candidateLabel = check?.SourcePath is { } candidatePath ? PolicyLoader.DisplayPath(candidatePath) : null;
        foreach (var error in check?.Errors ?? [])
        {
            // The errors were found in the temporary copy; point them at the file the user knows.
            var shown = error.Location.File == candidateLabel ? error with { Location = error.Location with { File = PolicyLoader.DisplayPath(path) } } : error;
            context.Error.WriteLine("  " + shown);
        }

        return false;
    }
}
