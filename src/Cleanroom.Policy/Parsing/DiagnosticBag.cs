using System.Collections.Immutable;

namespace Cleanroom.Policy.Parsing;

/// <summary>
/// Collects every problem of one run so that a user sees them all at once. It stops accepting errors after
/// <see cref="MaxErrors"/> so that a megabyte of garbage cannot produce a megabyte of output.
/// </summary>
internal sealed class DiagnosticBag
{
    public const int MaxErrors = 200;

    private readonly List<PolicyDiagnostic> _items = [];
    private int _errorCount;

    public bool HasErrors => _errorCount > 0;

    public bool IsFull => _errorCount >= MaxErrors;

    public void Add(PolicyDiagnostic diagnostic)
    {
        if (diagnostic.Severity == DiagnosticSeverity.Warning)
        {
            _items.Add(diagnostic);
            return;
        }

        if (_errorCount > MaxErrors)
        {
            return;
        }

        _errorCount++;
        if (_errorCount > MaxErrors)
        {
            _items.Add(diagnostic with
            {
                Kind = PolicyErrorKind.TooManyErrors,
                Message = $"stopped after {MaxErrors} errors",
                Found = "more errors",
                Expected = "a policy with fewer problems",
            });
            return;
        }

        _items.Add(diagnostic);
    }

    public void Error(PolicyErrorKind kind, SourceLocation at, string path, string message, string found, string expected) =>
        Add(new PolicyDiagnostic(DiagnosticSeverity.Error, kind, at, path, message, found, expected));

    public void Warning(PolicyErrorKind kind, SourceLocation at, string path, string message, string found, string expected) =>
        Add(new PolicyDiagnostic(DiagnosticSeverity.Warning, kind, at, path, message, found, expected));

    public void AddRange(IEnumerable<PolicyDiagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Add(diagnostic);
        }
    }

    /// <summary>Errors first, each group in source order, so output reads top to bottom.</summary>
    public ImmutableArray<PolicyDiagnostic> ToImmutable() =>
        [.. _items
            .Select((d, i) => (d, i))
            .OrderBy(x => x.d.Severity)
            .ThenBy(x => x.d.Location.Line)
            .ThenBy(x => x.d.Location.Column)
            .ThenBy(x => x.i)
            .Select(x => x.d)];
}
