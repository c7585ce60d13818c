package jcluster.master;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code --config FILE}: the master's flags in TOML, each a key named as its flag without {@code --}
 * ({@code workers = 4}, {@code keepalive-timeout = "5s"}, {@code compress = true}). TOML because the flags are
 * flat: a key and a value, typed, with comments, and nothing that indentation or an unquoted {@code no} can turn
 * into something else (YAML's traps); read by Jackson's TOML module (jackson-dataformat-toml: the Jackson that
 * the JSON logs already bring). Flags on the command line win over the file's keys. An unknown key, a table or an
 * array, and TOML the parser refuses are errors naming the file, the line and the key; so are values the flags
 * refuse, once parsed ({@link #where}).
 */
final class ConfigFile {
    /** Not keys: they say how to read the rest, or what to do instead of serving. */
    static final Set<String> NOT_KEYS = Set.of("config", "check-config", "help", "version");

    /** A key from the file, as its flag would be written, and where it is. */
    record Entry(String key, String arg, int line) {
    }

    /** The file's keys and the command line, as the arguments picocli parses, and where each file key came from. */
    record Merged(Path file, List<String> args, Map<String, Entry> fromFile, List<String> commandLine) {
        /** {@code FILE:LINE: } for an error about this flag (or one a message names), when the file set it. */
        String where(String message, String flag) {
            Entry e = flag == null ? null : fromFile.get(flag.replaceFirst("^--", ""));
            if (e == null && message != null) {
                var m = Pattern.compile("--([a-z][a-z0-9-]*)").matcher(message);
                while (e == null && m.find()) {
                    e = fromFile.get(m.group(1));
                }
            }
            return e == null ? "" : file + ":" + e.line() + ": ";
        }
    }

    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    private ConfigFile() {
    }

    /** The file {@code args} name with --config, or null (a subcommand's arguments name none). */
    static Path named(String[] args) {
        if (args.length == 0 || !args[0].startsWith("-")) {
            return null;
        }
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--config=")) {
                return Path.of(args[i].substring("--config=".length()));
            }
            if (args[i].equals("--config") && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
        }
        return null;
    }

    /**
     * The arguments to parse: the file's keys (those the command line does not give) before the command line.
     * @param options the master's options, for the keys that exist
     */
    static Merged merge(String[] args, CommandSpec options) throws Invalid {
        Path file = named(args);
        List<String> commandLine = List.of(args);
        if (file == null) {
            return new Merged(null, commandLine, Map.of(), commandLine);
        }
        Map<String, Entry> entries = read(file, options);
        List<String> merged = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (!givenOn(commandLine, "--" + e.key()) && e.arg() != null) {
                merged.add(e.arg());
            }
        }
        merged.addAll(commandLine);
        return new Merged(file, merged, entries, commandLine);
    }

    private static boolean givenOn(List<String> args, String flag) {
        return args.stream().anyMatch(a -> a.equals(flag) || a.startsWith(flag + "="));
    }

    /** Every key of the file, checked against the flags, in the file's order. */
    static Map<String, Entry> read(Path file, CommandSpec options) throws Invalid {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Invalid("--config " + file + ": no such file");
        } catch (IOException e) {
            throw new Invalid("--config " + file + ": cannot read it (" + e + ")");
        }
        JsonNode root;
        try {
            root = new TomlMapper().readTree(text);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : at.getLineNr() + ":" + at.getColumnNr() + ": ";
            throw new Invalid(file + ":" + where + "not TOML: " + e.getOriginalMessage());
        }
        String[] lines = text.split("\n", -1);
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> kv = it.next();
            String key = kv.getKey();
            int line = lineOf(lines, key);
            String at = file + ":" + line + ": " + key + ": ";
            OptionSpec option = options.findOption("--" + key);
            if (option == null || NOT_KEYS.contains(key) || !option.longestName().equals("--" + key)) {
                throw new Invalid(file + ":" + line + ": unknown key '" + key + "'; the keys are the flags' names "
                        + "without --, as --help lists them (workers, port, access-log, ...)");
            }
            JsonNode v = kv.getValue();
            String arg;
            if (option.typeInfo().isBoolean()) {
                if (!v.isBoolean()) {
                    throw new Invalid(at + "'" + v.asText() + "' is not true or false");
                }
                arg = v.booleanValue() ? "--" + key : null;
            } else if (v.isTextual() || v.isNumber()) {
                arg = "--" + key + "=" + v.asText();
            } else {
                throw new Invalid(at + "a " + (v.isObject() ? "table" : v.isArray() ? "array" : "value of that kind")
                        + " is no flag's value; give a string, a number or true/false");
            }
            entries.put(key, new Entry(key, arg, line));
        }
        return entries;
    }

    /** The line (from 1) where {@code key} is set: bare or quoted, at the top level (the flags have no tables). */
    private static int lineOf(String[] lines, String key) {
        Pattern p = Pattern.compile("^\\s*(" + Pattern.quote(key) + "|\"" + Pattern.quote(key) + "\"|'"
                + Pattern.quote(key) + "')\\s*=");
        for (int i = 0; i < lines.length; i++) {
            if (p.matcher(lines[i]).find()) {
                return i + 1;
            }
        }
        // a table's name, [key]
        Pattern table = Pattern.compile("^\\s*\\[\\s*\"?" + Pattern.quote(key) + "\"?\\s*[.\\]]");
        for (int i = 0; i < lines.length; i++) {
            if (table.matcher(lines[i]).find()) {
                return i + 1;
            }
        }
        return 1;
    }
}
