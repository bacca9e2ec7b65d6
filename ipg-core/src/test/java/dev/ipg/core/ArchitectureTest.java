package dev.ipg.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure as rules over the compiled classes: no cycle between the packages of
 * {@code dev.ipg.core}, and the lower layers (tensor, data, run) never reach up.
 */
class ArchitectureTest {

    /** Everything that runs a model or works on its runs. */
    private static final String[] ABOVE_MODEL = {
        "dev.ipg.core.grad..", "dev.ipg.core.generate..", "dev.ipg.core.signal..", "dev.ipg.core.steer..",
        "dev.ipg.core.sae..", "dev.ipg.core.attribution..", "dev.ipg.core.eval..", "dev.ipg.core.compare..",
        "dev.ipg.core.report..", "dev.ipg.core.demo..", "dev.ipg.core.train..", "dev.ipg.api.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.ipg");
        if (classes.size() < 100) {
            throw new AssertionError("only " + classes.size() + " classes imported: the rules would check nothing");
        }
    }

    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("dev.ipg.core.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void tensorDependsOnNothingOfTheProject() {
        noClasses().that().resideInAPackage("dev.ipg.core.tensor..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.ipg.core.io..", "dev.ipg.core.nn..", "dev.ipg.core.model..", "dev.ipg.core.data..",
                        "dev.ipg.core.run..", "dev.ipg.core.eval..", "dev.ipg.core.attribution..", "dev.ipg.api..")
                .check(classes);
    }

    @Test
    void dataDependsOnlyOnTheFoundation() {
        noClasses().that().resideInAPackage("dev.ipg.core.data..")
                .should().dependOnClassesThat().resideInAnyPackage(ABOVE_MODEL)
                .orShould().dependOnClassesThat().resideInAnyPackage("dev.ipg.core.model..", "dev.ipg.core.run..")
                .check(classes);
    }

    @Test
    void runKnowsTheModelButNothingThatRunsIt() {
        // a run's identity names the model it ran (architecture, content hash), nothing above it
        noClasses().that().resideInAPackage("dev.ipg.core.run..")
                .should().dependOnClassesThat().resideInAnyPackage(ABOVE_MODEL)
                .check(classes);
    }

    @Test
    void evaluationDoesNotReachIntoAttribution() {
        noClasses().that().resideInAPackage("dev.ipg.core.eval..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.ipg.core.attribution..", "dev.ipg.core.compare..", "dev.ipg.core.report..")
                .check(classes);
    }

    @Test
    void reportReadsRunFilesNotTheRunsThatWriteThem() {
        // the report reads attribution and evaluation results through the typed records of run
        noClasses().that().resideInAPackage("dev.ipg.core.report..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.ipg.core.attribution..", "dev.ipg.core.eval..")
                .check(classes);
    }
}
