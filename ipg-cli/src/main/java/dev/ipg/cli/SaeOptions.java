package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeFiles;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --sae DIR}: an SAE (SAELens or sparsify directory) whose latents are the components. */
final class SaeOptions {

    @Option(names = "--sae", paramLabel = "DIR",
            description = "An SAE directory (SAELens: cfg.json + sae_weights.safetensors; sparsify: cfg.json + sae.safetensors, "
                    + "or one sub-directory per hook point). Its latents become the components of its site, spliced in "
                    + "with the error term so the model is unchanged until a latent is.")
    Path dir;

    boolean given() {
        return dir != null;
    }

    /** The SAE for {@code site} (null: the directory's only one), checked against the model. */
    Sae load(ModelConfig config, Site site) {
        return load(site).checkIn(config);
    }

    /** The SAE for {@code site} (null: the directory's only one), or null without {@code --sae}. */
    Sae load(Site site) {
        if (dir == null) {
            return null;
        }
        Sae sae = SaeFiles.load(dir, site);
        if (site != null && !sae.site().equals(site)) {
            throw new IpgException(sae.source() + ": the SAE reads " + sae.site() + ", not " + site);
        }
        return sae;
    }
}
