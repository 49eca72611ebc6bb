using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// What a <see cref="Trainer"/> trains in distillation: the student (child <c>student</c>) and, when the hidden-state loss
/// compares states of different widths, the projection from the student's width to the teacher's (child <c>projection</c>,
/// trained with the student and thrown away afterwards, as DistilBERT's). Save <see cref="Student"/> alone as the result.
/// </summary>
public sealed class DistillationStudent : Module
{
    /// <summary>Wraps <paramref name="student"/>; adds a projection when <paramref name="studentWidth"/> ≠ <paramref name="teacherWidth"/> and both are given.</summary>
    public DistillationStudent(Module student, int? studentWidth = null, int? teacherWidth = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        RegisterModule("student", student);
        if (studentWidth is { } s && teacherWidth is { } t && s != t)
            RegisterModule<ILinear>("projection", new Linear(s, t, bias: true, generator ?? new Generator(0)));
        Train(student.Training);
    }

    /// <summary>The student.</summary>
    public Module Student => Child<Module>("student");

    /// <summary>The student-to-teacher width projection of the hidden loss, or null when the widths agree.</summary>
    public ILinear? Projection => ChildOrNull<ILinear>("projection");
}
