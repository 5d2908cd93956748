namespace Cleanroom.Policy;

/// <summary>
/// The commented starter file that <c>cleanroom policy init</c> writes. It compiles as is (a test keeps it so): a
/// deny-all sandbox on the given image, with every other section shown as a commented example.
/// </summary>
public static class StarterPolicy
{
    /// <summary>The image used when the caller has not resolved one; validation warns that it is not pinned.</summary>
    public const string DefaultImage = "ghcr.io/buildkite/cleanroom-base/alpine:latest";

    /// <summary>The starter YAML for <paramref name="imageRef"/> (default <see cref="DefaultImage"/>).</summary>
    public static string Render(string? imageRef = null)
    {
        var image = string.IsNullOrWhiteSpace(imageRef) ? DefaultImage : imageRef.Trim();
        return $$"""
            # cleanroom.yaml: what a Cleanroom sandbox for this repository may do.
            # Check it with `cleanroom policy validate`; the full schema is in docs/policy.md.
            version: 1

            # The repository is checked out at /workspace by default. Uncomment to change that:
            # repository:
            #   enabled: true        # false: start sandboxes without a checkout
            #   remote: origin       # the remote whose commit is checked out
            #   path: /workspace
            #   submodules: false

            sandbox:
              image:
                # Pin the image to a digest so every run starts from the same bytes:
                #   cleanroom image bump-ref <image:tag>
                ref: {{QuoteIfNeeded(image)}}

              # Minimum resources. A host may give more, never less.
              # resources:
              #   vcpus: 2
              #   memory: 4GiB
              #   disk: 16GiB

              network:
                # Everything that no rule allows is blocked.
                default: deny
                # Destinations as host:port, or {host, ports} for several ports or IPv6.
                # *.example.com covers every subdomain (not example.com itself).
                allow: []
                # allow:
                #   - api.github.com:443
                #   - host: registry.npmjs.org
                #     ports: [443]
                # Deny rules win over allow rules; a deny rule without a port covers every port.
                # deny:
                #   - metadata.internal

              # Run Docker inside the sandbox.
              # docker:
              #   required: true

              # Setup whose outputs are cached between sandboxes, keyed by the inputs.
              # dependencies:
              #   - name: node
              #     command: npm ci
              #     inputs:
              #       files: [package.json, package-lock.json]
              #     outputs:
              #       dirs: [node_modules]

              # Service preparation, run after the dependency blocks.
              # services:
              #   - name: database
              #     command: docker compose run --rm migrate
              #     inputs:
              #       files: [docker-compose.yml]
              #     outputs:
              #       dirs: [/var/lib/docker]

              # Run before every command in the sandbox.
              # run:
              #   before: docker compose up -d postgres

            """;
    }

    private static string QuoteIfNeeded(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '/' or ':' or '@' or '_' or '-')
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
