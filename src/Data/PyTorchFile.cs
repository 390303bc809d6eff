// PyTorch's torch.save files, read without running them: the zip format (PyTorch >= 1.6) and the legacy one before it,
// holding a state dict or a whole pickled module.
using System.Buffers.Binary;
using System.Collections;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;

namespace Denoiser.Data;

/// <summary>
/// Reads the float32 and int64 tensors of a <c>torch.save</c> file, named as <c>model.state_dict()</c> names them.
/// A pickle can name any Python callable, so before anything is built its opcodes are walked and every global it
/// names must be on a short list: the tensor rebuilders, the storage types, OrderedDict, and, for a whole pickled
/// module, torch.nn's classes and the model's own (which become inert dictionaries; nothing is ever executed).
/// Sizes are checked before allocation: the file, the pickle, every storage's bytes against its declared length,
/// every tensor's extent against its storage, and the total number of elements.
/// </summary>
public static class PyTorchFile
{
    public const long MaxFileBytes = 1L << 30, MaxElements = 1L << 28;
    const long MaxPickleBytes = 64L << 20;
    static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356"); // 0x1950a86a20f9469cfc6c
    const string Resave = "re-save it in PyTorch with torch.save(model.state_dict(), PATH)";

    static readonly Dictionary<string, (string Dtype, int Size)> Storages = new()
    {
        ["FloatStorage"] = ("F32", 4), ["LongStorage"] = ("I64", 8), ["DoubleStorage"] = ("F64", 8), ["HalfStorage"] = ("F16", 2),
        ["BFloat16Storage"] = ("BF16", 2), ["IntStorage"] = ("I32", 4), ["ShortStorage"] = ("I16", 2), ["CharStorage"] = ("I8", 1),
        ["ByteStorage"] = ("U8", 1), ["BoolStorage"] = ("BOOL", 1),
    };

    static readonly HashSet<string> Rebuilders =
    [
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch.nn.parameter.Parameter", "collections.OrderedDict", "__builtin__.set", "builtins.set",
        "torch.nn.backends.thnn._get_thnn_function_backend", // what old modules kept in `_backend`
    ];

    /// <summary>Python's modules that reach the system: nothing from them belongs in a model file.</summary>
    static readonly HashSet<string> SystemModules =
    [
        "os", "posix", "nt", "sys", "subprocess", "builtins", "__builtin__", "shutil", "socket", "importlib", "runpy", "pty",
        "ctypes", "multiprocessing", "pickle", "marshal", "code", "codeop", "webbrowser", "signal", "asyncio", "io",
        "tempfile", "pathlib", "glob", "zipfile", "tarfile", "urllib", "http", "ftplib", "smtplib", "types", "functools",
        "operator", "inspect", "threading", "commands", "platform", "torch",
    ];

    /// <summary>
    /// A state dict may name only the tensor rebuilders, storage types and containers. A whole pickled module (one
    /// that names a torch.nn module class) may also name torch.nn's classes and the model's own classes (a capitalized
    /// name, as Python's classes are, outside Python's system modules), which become inert dictionaries.
    /// </summary>
    static bool Allowed(string global, bool wholeModule)
    {
        if (Rebuilders.Contains(global) || (global.StartsWith("torch.") && Storages.ContainsKey(global[6..]))) return true;
        if (!wholeModule) return false;
        if (global.StartsWith("torch.nn.modules.")) return true;
        int dot = global.LastIndexOf('.');
        string module = global[..Math.Max(dot, 0)], name = global[(dot + 1)..];
        return dot > 0 && name.Length > 0 && char.IsUpper(name[0]) && !SystemModules.Contains(module.Split('.')[0]);
    }

    /// <summary>
    /// True when the file starts like a torch.save file: a zip archive, or a pickle's PROTO opcode (0x80) that is not
    /// the first byte of a safetensors header length (a safetensors file's ninth byte opens its JSON header).
    /// </summary>
    public static bool Recognizes(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[9];
        int read = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return (read >= 4 && head[..4].SequenceEqual("PK\x03\x04"u8)) || (read >= 2 && head[0] == 0x80 && !(read == 9 && head[8] == '{'));
    }

    public static IReadOnlyDictionary<string, SafeTensor> Read(string path)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
            throw new InvalidDataException($"{path}: is {length:N0} bytes, more than the {MaxFileBytes:N0} Denoiser reads from a .pt file.");
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        if (file.Read(head) < 2) throw new InvalidDataException($"{path}: is not a PyTorch file (it is empty or truncated).");
        file.Position = 0;
        try
        {
            return head[0] == 'P' && head[1] == 'K' ? ReadZip(file) : ReadLegacy(file);
        }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
        catch (Exception e) when (e is PickleException or InvalidCastException or IndexOutOfRangeException or OverflowException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: is not a PyTorch file Denoiser can read ({e.Message.TrimEnd('.')}); {Resave}.");
        }
    }

    static IReadOnlyDictionary<string, SafeTensor> ReadZip(Stream file)
    {
        using var zip = new ZipArchive(file, ZipArchiveMode.Read);
        long declared = 0;
        foreach (var e in zip.Entries) declared += e.Length;
        if (declared > MaxFileBytes)
            throw new InvalidDataException($"its archive inflates to {declared:N0} bytes, past the {MaxFileBytes:N0} Denoiser allows; it is not a model's weights.");
        var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl") && e.FullName.Count(c => c == '/') == 1)
                  ?? throw new InvalidDataException("is a zip archive without data.pkl, not a torch.save file.");
        string prefix = pkl.FullName[..^"data.pkl".Length];
        var pickle = ReadEntry(pkl, Math.Min(pkl.Length, MaxPickleBytes), exact: false);
        var root = Unpickle(pickle, 0, pid => pid[0] as string == "storage" && pid.Length >= 5
            ? new StorageRef(StorageOf(pid[1]), (string)pid[2], ToLong(pid[4]))
            : throw new InvalidDataException("names a persistent object that is not a storage."));
        return Materialize(StateDict(root), storage =>
        {
            var entry = zip.GetEntry(prefix + "data/" + storage.Key)
                        ?? throw new InvalidDataException($"lacks the bytes of storage {storage.Key}.");
            long bytes = storage.Numel * storage.Type.Size;
            if (entry.Length != bytes)
                throw new InvalidDataException($"storage {storage.Key} declares {storage.Numel:N0} elements ({bytes:N0} bytes) but stores {entry.Length:N0} bytes.");
            return ReadEntry(entry, bytes, exact: true);
        });
    }

    static IReadOnlyDictionary<string, SafeTensor> ReadLegacy(Stream file)
    {
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        int at = 0;
        var magic = Unpickle(bytes, at, _ => null, out at);
        if (magic is not (BigInteger or long) || (magic is BigInteger m ? m : (BigInteger)(long)magic) != LegacyMagic)
            throw new InvalidDataException("is neither a zip archive nor a legacy torch.save file (wrong magic number).");
        Unpickle(bytes, at, _ => null, out at); // the protocol version (1001)
        Unpickle(bytes, at, _ => null, out at); // sys_info: byte order and type sizes, little-endian on every platform we run on
        var storages = new Dictionary<string, StorageRef>();
        var root = Unpickle(bytes, at, pid => (pid[0] as string) switch
        {
            "module" => pid[1], // (class, source file, source): the class, as torch's own loader returns
            "storage" when pid.Length == 6 && pid[5] is null => storages.TryGetValue((string)pid[2], out var s) ? s
                : storages[(string)pid[2]] = new StorageRef(StorageOf(pid[1]), (string)pid[2], ToLong(pid[4])),
            "storage" => throw new InvalidDataException("uses storage views, which only PyTorch before 1.0 wrote; " + Resave + "."),
            _ => throw new InvalidDataException("names a persistent object that is neither a storage nor a module class."),
        }, out at);
        var keys = Unpickle(bytes, at, _ => null, out at) as ArrayList ?? throw new InvalidDataException("lacks its list of storages.");
        var data = new Dictionary<string, (int Offset, long Bytes)>();
        foreach (string key in keys)
        {
            if (at + 8 > bytes.Length) throw new InvalidDataException("ends before its storages do.");
            var storage = storages.GetValueOrDefault(key) ?? throw new InvalidDataException($"lists storage {key}, which nothing uses.");
            long numel = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at));
            long size = numel * storage.Type.Size;
            if (numel != storage.Numel || numel < 0 || size > bytes.Length - at - 8)
                throw new InvalidDataException($"storage {key} declares {storage.Numel:N0} elements but stores {numel:N0} ({bytes.Length - at - 8:N0} bytes left).");
            data[key] = (at + 8, size);
            at += 8 + (int)size;
        }
        return Materialize(StateDict(root), s => data.TryGetValue(s.Key, out var d)
            ? bytes.AsSpan(d.Offset, (int)d.Bytes).ToArray()
            : throw new InvalidDataException($"lacks the bytes of storage {s.Key}."));
    }

    // ---- the pickle: its globals checked by walking the opcodes, then built by Razorvine with our constructors ----

    static object? Unpickle(byte[] bytes, int start, Func<object[], object?> persistent) => Unpickle(bytes, start, persistent, out _);

    static object? Unpickle(byte[] bytes, int start, Func<object[], object?> persistent, out int end)
    {
        var (globals, stop) = PickleOpcodes.Scan(bytes, start);
        bool wholeModule = globals.Any(g => g.StartsWith("torch.nn.modules."));
        if (globals.FirstOrDefault(g => !Allowed(g, wholeModule)) is { } bad)
            throw new InvalidDataException($"its pickle names {bad}, which is not a tensor, a state dict or a torch.nn module, so Denoiser refuses it (nothing in it was run); {Resave}.");
        end = stop;
        using var unpickler = new Loader(persistent);
        return unpickler.loads(bytes[start..stop]);
    }

    sealed class Loader(Func<object[], object?> persistent) : Unpickler
    {
        static Loader()
        {
            // Razorvine keeps constructors in one static table; TorchSharp.PyBridge's unpickler (unused here) would
            // overwrite these if it were ever initialized in this process.
            registerConstructor("torch._utils", "_rebuild_tensor", new Construct(a => TensorRef.From(a)));
            registerConstructor("torch._utils", "_rebuild_tensor_v2", new Construct(a => TensorRef.From(a)));
            registerConstructor("torch._utils", "_rebuild_parameter", new Construct(a => a[0]));
            registerConstructor("torch.nn.parameter", "Parameter", new Construct(a => a[0]));
            registerConstructor("torch.nn.backends.thnn", "_get_thnn_function_backend", new Construct(_ => null!));
            registerConstructor("collections", "OrderedDict", new Construct(_ => new OrderedDict()));
            foreach (var (name, type) in Storages) registerConstructor("torch", name, new StorageType(name, type.Dtype, type.Size));
        }

        protected override object persistentLoad(object pid) =>
            persistent(pid as object[] ?? throw new InvalidDataException("has a persistent id that is not a tuple."))!;
    }

    sealed class Construct(Func<object[], object> build) : IObjectConstructor
    {
        public object construct(object[] args) => build(args);
    }

    /// <summary>A pickled OrderedDict; its state (a state dict's `_metadata` of versions) is not needed.</summary>
    sealed class OrderedDict : Hashtable
    {
        public void __setstate__(Hashtable state) { }
    }

    sealed record StorageType(string Name, string Dtype, int Size) : IObjectConstructor
    {
        public object construct(object[] args) => throw new InvalidDataException($"constructs a {Name} directly; {Resave}.");
    }

    sealed record StorageRef(StorageType Type, string Key, long Numel);

    sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride)
    {
        public static TensorRef From(object[] a) =>
            a.Length >= 4 && a[0] is StorageRef s && a[2] is object[] shape && a[3] is object[] stride && shape.Length == stride.Length
                ? new TensorRef(s, ToLong(a[1]), shape.Select(ToLong).ToArray(), stride.Select(ToLong).ToArray())
                : throw new InvalidDataException("rebuilds a tensor from arguments torch.save does not write.");

        public long Numel => Shape.Aggregate(1L, (n, d) => checked(n * d));
    }

    static StorageType StorageOf(object type) =>
        type as StorageType ?? throw new InvalidDataException($"has a storage of unknown type {(type as ClassDictConstructor)?.name ?? type}.");

    static long ToLong(object? o) => o switch
    {
        int i => i, long l => l,
        _ => throw new InvalidDataException($"has {o ?? "None"} where a whole number belongs."),
    };

    // ---- from the unpickled objects to named tensors ----

    /// <summary>The tensors by state-dict name: a dict of tensors as it is, or a whole module walked as
    /// <c>state_dict()</c> walks it (`_parameters`, persistent `_buffers`, then `_modules` by name).</summary>
    static Dictionary<string, TensorRef> StateDict(object? root)
    {
        var named = new Dictionary<string, TensorRef>();
        switch (root)
        {
            case ClassDict module when module.ContainsKey("_modules"):
                Walk(module, "", named);
                break;
            case IDictionary dict when dict.Count > 0 && dict.Values.Cast<object?>().All(v => v is TensorRef):
                foreach (DictionaryEntry kv in dict) named[(string)kv.Key] = (TensorRef)kv.Value!;
                break;
            case IDictionary dict when new[] { "state_dict", "model_state_dict", "model" }.FirstOrDefault(dict.Contains) is { } key:
                return StateDict(dict[key]); // a training checkpoint: {"epoch": ..., "state_dict": ...}
            default:
                throw new InvalidDataException($"holds no state dict or module (its top object is {root?.GetType().Name ?? "None"}); {Resave}.");
        }
        return named;
    }

    static void Walk(ClassDict module, string prefix, Dictionary<string, TensorRef> named)
    {
        var skip = module.TryGetValue("_non_persistent_buffers_set", out var set) && set is HashSet<object> s ? s : [];
        foreach (var (field, persistentOnly) in new[] { ("_parameters", false), ("_buffers", true) })
            if (module.TryGetValue(field, out var d) && d is IDictionary dict)
                foreach (DictionaryEntry kv in dict)
                    if (kv.Value is TensorRef t && !(persistentOnly && skip.Contains(kv.Key))) named[prefix + kv.Key] = t;
        if (module.TryGetValue("_modules", out var m) && m is IDictionary children)
            foreach (DictionaryEntry kv in children)
                if (kv.Value is ClassDict child) Walk(child, prefix + kv.Key + ".", named);
    }

    static IReadOnlyDictionary<string, SafeTensor> Materialize(Dictionary<string, TensorRef> named, Func<StorageRef, byte[]> bytesOf)
    {
        long total = 0;
        foreach (var (name, t) in named)
        {
            if (t.Storage.Type.Dtype is not ("F32" or "I64"))
                throw new InvalidDataException($"{name} is {t.Storage.Type.Dtype}; Denoiser reads float32 weights (call model.float() before saving).");
            if (t.Offset < 0 || t.Shape.Any(d => d < 0) || t.Stride.Any(d => d < 0))
                throw new InvalidDataException($"{name} has a negative size, stride or offset.");
            long last = t.Offset + t.Shape.Zip(t.Stride, (d, st) => d == 0 ? 0 : (d - 1) * st).Sum();
            if (t.Numel > 0 && last >= t.Storage.Numel)
                throw new InvalidDataException($"{name} reaches element {last:N0} of a storage of {t.Storage.Numel:N0}.");
            total += t.Numel;
            if (total > MaxElements) throw new InvalidDataException($"holds more than {MaxElements:N0} elements, more than any model Denoiser has.");
        }

        var cache = new Dictionary<string, byte[]>();
        return named.ToDictionary(kv => kv.Key, kv =>
        {
            var t = kv.Value;
            if (!cache.TryGetValue(t.Storage.Key, out var raw)) cache[t.Storage.Key] = raw = bytesOf(t.Storage);
            return t.Storage.Type.Dtype == "F32"
                ? new SafeTensor(t.Shape, Gather(MemoryMarshal.Cast<byte, float>(raw), t))
                : new SafeTensor(t.Shape, Gather(MemoryMarshal.Cast<byte, long>(raw), t));
        });
    }

    /// <summary>The tensor's elements in row-major order, wherever its strides put them in the storage.</summary>
    static T[] Gather<T>(ReadOnlySpan<T> storage, TensorRef t)
    {
        var values = new T[t.Numel];
        var index = new long[t.Shape.Length];
        for (long n = 0; n < values.Length; n++)
        {
            long at = t.Offset;
            for (int d = 0; d < index.Length; d++) at += index[d] * t.Stride[d];
            values[n] = storage[(int)at];
            for (int d = index.Length - 1; d >= 0 && ++index[d] == t.Shape[d]; d--) index[d] = 0;
        }
        return values;
    }

    static byte[] ReadEntry(ZipArchiveEntry entry, long bytes, bool exact)
    {
        if (!exact && entry.Length > MaxPickleBytes)
            throw new InvalidDataException($"its {entry.Name} is {entry.Length:N0} bytes, past the {MaxPickleBytes:N0} a state dict's pickle needs.");
        var buffer = new byte[bytes];
        using var s = entry.Open();
        int read = 0;
        while (read < buffer.Length && s.Read(buffer, read, buffer.Length - read) is > 0 and var n) read += n;
        if (read < buffer.Length) throw new InvalidDataException($"its {entry.FullName} is truncated ({read:N0} of {bytes:N0} bytes).");
        if (!exact && s.ReadByte() >= 0) throw new InvalidDataException($"its {entry.Name} inflates past the {bytes:N0} bytes it declares.");
        return buffer;
    }
}
