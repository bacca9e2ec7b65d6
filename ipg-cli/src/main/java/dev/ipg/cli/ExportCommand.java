package dev.ipg.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.RepengControlVector;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.ScoresTable;
import dev.ipg.core.steer.Selection;
import dev.ipg.core.steer.SteeringVector;
import dev.ipg.core.steer.Top;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg export}: scores and selections in formats other tools read. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write the scores of a run, or the direction of a selection, in a format other tools read: "
                + "a repeng / llama.cpp control vector (GGUF), or a table for pandas (JSON records or CSV).",
                "repeng-gguf: one direction per blocks.L.hook_resid_post site (the output of decoder layer L, where repeng adds it): "
                        + "the selected components' scores, zero elsewhere, scaled to unit norm; or a steering vector file as it is.",
                "json, csv: one row per component (site, rank, component, score, method), best first; "
                        + "only the selected ones when --top-percent or --top-count is given.",
                "Examples:",
                "  ipg export --scores runs/ipg --top-count 20 --format repeng-gguf \\",
                "      --model DIR --out ipg.gguf",
                "  ipg export --scores runs/ipg --format json --out scores.json",
                "  ipg export --vector runs/cv --format repeng-gguf --model-hint llama \\",
                "      --out cv.gguf"})
final class ExportCommand implements Callable<Integer> {

    @Option(names = "--scores", paramLabel = "RUN_DIR", description = "Run directory (or scores.safetensors) of ipg attribute or ipg baseline.")
    Path scores;

    @Option(names = "--vector", paramLabel = "FILE", description = "A steering vector file (or a run directory holding vector.safetensors); repeng-gguf only.")
    Path vector;

    @Option(names = "--site", paramLabel = "SITE", split = ",",
            description = "The site(s) to export (default: every site of the file); needed for a file that does not name its site.")
    List<String> sites = new ArrayList<>();

    @Option(names = "--top-percent", paramLabel = "P", description = "Select the top P percent of each site's components.")
    Double topPercent;

    @Option(names = "--top-count", paramLabel = "K", description = "Select the top K components of each site.")
    Integer topCount;

    @Option(names = "--rank", paramLabel = "signed|abs", defaultValue = "signed",
            description = "Rank by signed score (the paper) or by |score| (default: ${DEFAULT-VALUE}).")
    String rank;

    @Option(names = "--format", required = true, paramLabel = "repeng-gguf|json|csv", description = "Output format.")
    String format;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "repeng-gguf: the model directory, for the model hint (config.json model_type) and a check of the width.")
    Path model;

    @Option(names = "--model-hint", paramLabel = "NAME", description = "repeng-gguf: the model hint without --model (e.g. llama, qwen2).")
    String modelHint;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "Output file.")
    Path out;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if ((scores == null) == (vector == null)) {
            throw new IpgException("give one of --scores RUN_DIR or --vector FILE");
        }
        if (topPercent != null && topCount != null) {
            throw new IpgException("give one of --top-percent P or --top-count K, not both");
        }
        String fmt = format.strip().toLowerCase(Locale.ROOT);
        if (!List.of("repeng-gguf", "json", "csv").contains(fmt)) {
            throw new IpgException("--format: unknown format '" + format + "': use repeng-gguf, json or csv");
        }
        if (vector != null && !fmt.equals("repeng-gguf")) {
            throw new IpgException("--vector exports to --format repeng-gguf only");
        }
        if (vector != null && (topPercent != null || topCount != null)) {
            throw new IpgException("--top-percent / --top-count select components of --scores, not of a --vector");
        }
        Rank r = Rank.parse(rank);
        if (fmt.equals("repeng-gguf")) {
            String hint = modelHint();
            TreeMap<Integer, float[]> dirs = new TreeMap<>();
            List<String> described = new ArrayList<>();
            if (vector != null) {
                if (sites.size() > 1) {
                    throw new IpgException("--site: a vector file has one site, got " + sites.size());
                }
                SteeringVector v = SteeringVector.load(vector, sites.isEmpty() ? null : Site.parse(sites.getFirst()));
                checkWidth(v.site(), v.values().length);
                RepengControlVector one = RepengControlVector.of(hint, v);
                dirs.putAll(one.directions());
                described.add(v.site() + " (vector of norm " + String.format(Locale.ROOT, "%.4g", v.norm()) + ")");
            } else {
                for (ScoresFile sf : scoresFiles()) {
                    Selection sel = sf.select(top(), r);
                    SteeringVector v = SteeringVector.ofSelection(sel, sf.scores());
                    checkWidth(v.site(), sel.width());
                    if (dirs.containsKey(v.site().layer())) {
                        throw new IpgException("two sites of layer " + v.site().layer() + "; a control vector has one direction per layer");
                    }
                    dirs.putAll(RepengControlVector.of(hint, v).directions());
                    described.add(sel.toString());
                }
            }
            new RepengControlVector(hint, dirs).writeGguf(out);
            err.println("[wrote a repeng control vector (model hint " + hint + ", layers " + dirs.keySet() + ": "
                    + String.join("; ", described) + ") to " + out + "]");
            return 0;
        }
        StringBuilder csv = new StringBuilder();
        var json = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        int rows = 0;
        for (ScoresFile sf : scoresFiles()) {
            ScoresTable t = topPercent == null && topCount == null ? ScoresTable.all(sf, r) : new ScoresTable(sf, sf.select(top(), r));
            rows += t.selection().size();
            if (fmt.equals("json")) {
                json.addAll(t.json());
            } else {
                String c = t.csv();
                csv.append(csv.isEmpty() ? c : c.substring(c.indexOf('\n') + 1));
            }
        }
        if (fmt.equals("json")) {
            Json.write(out, json);
        } else {
            byte[] bytes = csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            AtomicFiles.write(out, ch -> AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap(bytes)));
        }
        err.println("[wrote " + rows + " rows to " + out + "]");
        return 0;
    }

    private Top top() {
        if (topPercent != null) {
            return new Top.Percent(topPercent);
        }
        if (topCount != null) {
            return new Top.Count(topCount);
        }
        if (format.strip().equalsIgnoreCase("repeng-gguf")) {
            throw new IpgException("a control vector from scores needs a selection: --top-percent P or --top-count K");
        }
        return new Top.Percent(100);
    }

    private List<ScoresFile> scoresFiles() {
        List<Site> which = new ArrayList<>();
        for (String s : sites) {
            which.add(Site.parse(s));
        }
        if (which.isEmpty()) {
            which.addAll(ScoresFile.sites(scores));
        }
        if (which.isEmpty()) {
            throw new IpgException(scores + " does not name its site; give it with --site SITE");
        }
        List<ScoresFile> files = new ArrayList<>();
        for (Site s : which) {
            files.add(ScoresFile.load(scores, s));
        }
        return files;
    }

    private String modelHint() {
        if (model != null && modelHint != null) {
            throw new IpgException("give one of --model DIR or --model-hint NAME, not both");
        }
        if (modelHint != null) {
            return modelHint.strip();
        }
        if (model == null) {
            throw new IpgException("repeng-gguf needs --model DIR (for config.json's model_type) or --model-hint NAME");
        }
        Path cfg = model.resolve("config.json");
        if (!Files.isRegularFile(cfg)) {
            throw new IpgException(model + " holds no config.json");
        }
        JsonNode c = Json.read(cfg);
        if (!c.hasNonNull("model_type")) {
            throw new IpgException(cfg + " has no model_type; give --model-hint NAME");
        }
        return c.get("model_type").asText();
    }

    private void checkWidth(Site site, int width) {
        if (model == null) {
            return;
        }
        ModelConfig config = ModelConfig.load(model);
        site.checkIn(config);
        if (site.width(config) != width) {
            throw new IpgException(site + " has " + site.width(config) + " components in " + model + ", the export has " + width);
        }
    }
}
