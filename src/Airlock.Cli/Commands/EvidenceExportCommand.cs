using System.CommandLine;

using Airlock.Cli.Client;
using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence export`: writes the log (of the local store, or a server's with --server) as NDJSON that an auditor can verify offline with only the public key.</summary>
internal static class EvidenceExportCommand
{
    public static Command Create()
    {
        var since = EvidenceCli.SinceOption("Start at the first record recorded at or after this time (ISO 8601, or 12h / 7d back).");
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file (atomically) instead of stdout." };
        var database = EvidenceCli.DatabaseOption();
        var server = EvidenceCli.ServerOption();
        var command = new Command("export", "Export the evidence log as NDJSON (records and signed checkpoints).");
        command.Options.Add(since);
        command.Options.Add(output);
        command.Options.Add(database);
        command.Options.Add(server);
        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var from = EvidenceCli.ParseSince(parseResult.GetValue(since), TimeProvider.System);
            var databaseUrl = parseResult.GetValue(database);
            var target = parseResult.GetValue(output);
            if (parseResult.GetValue(server) is { } url)
            {
                if (from is not null || databaseUrl is not null)
                {
                    throw new ArgumentException("--since and --database do not apply with --server: the server exports its whole chain");
                }

                using var client = ServerClient.FromEnvironment(url);
                using var request = new HttpRequestMessage(HttpMethod.Get, "api/evidence/export");
                using var response = await client.OpenAsync(request, ct);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                return await WriteAsync(target, async destination =>
                {
                    // The server signs its head first, as the local export does; count its record lines as they pass.
                    var counter = new RecordCounter(destination);
                    await body.CopyToAsync(counter, ct);
                    return counter.Records;
                });
            }

            await using var store = await EvidenceWorkspace.OpenStoreAsync(databaseUrl, ct);
            if (store is null)
            {
                await Console.Error.WriteLineAsync($"airlock: no evidence store in this workspace ({EvidenceWorkspace.Describe(databaseUrl)}): nothing to export");
                return EvidenceCli.Failed;
            }

            using var signer = EvidenceWorkspace.LoadSigner();
            var log = new EvidenceLog(store.Evidence, signer, TimeProvider.System);
            return await WriteAsync(target, destination => log.ExportAsync(destination, from, ct));
        }));
        return command;
    }

    // To stdout, or to a file written beside the target and moved into place, so a failed export never leaves a partial file.
    private static async Task<int> WriteAsync(string? target, Func<Stream, Task<long>> export)
    {
        if (target is null)
        {
            await using var stdout = Console.OpenStandardOutput();
            await export(stdout);
            return EvidenceCli.Ok;
        }

        var temp = target + ".partial-" + Guid.NewGuid().ToString("N");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var count = await export(file);
                await Console.Error.WriteLineAsync($"exported {count} records to {target}");
            }

            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }

        return EvidenceCli.Ok;
    }

    /// <summary>Passes NDJSON through, counting the lines that are chain records (each line starts with its "type").</summary>
    private sealed class RecordCounter(Stream inner) : Stream
    {
        private static readonly byte[] RecordStart = "{\"type\":\"record\""u8.ToArray();
        private readonly List<byte> _lineStart = [];
        private bool _atLineStart = true;

        public long Records { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Count(buffer.AsSpan(offset, count));
            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Count(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                if (b == (byte)'\n')
                {
                    _atLineStart = true;
                    _lineStart.Clear();
                    continue;
                }

                if (_atLineStart)
                {
                    _lineStart.Add(b);
                    if (_lineStart.Count == RecordStart.Length)
                    {
                        Records += _lineStart.SequenceEqual(RecordStart) ? 1 : 0;
                        _atLineStart = false;
                    }
                }
            }
        }
    }
}
