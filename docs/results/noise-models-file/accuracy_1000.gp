# accuracy_1000.gp -- Best validation accuracy vs labels poisoned (1000 training items)
# Written by `poisonfarm report`; restyle and rerun with: gnuplot accuracy_1000.gp
# Data: accuracy_1000.dat (accuracies as fractions; this script shows them in %).
reset
set encoding utf8
set terminal pngcairo size 1000,620 noenhanced font "sans,12"
set output "accuracy_1000.png"
set grid lc rgb "#dddddd"
set key outside right top noenhanced
set style fill transparent solid 0.18 noborder
set title "Best validation accuracy vs labels poisoned (1000 training items)"
set xlabel "training labels poisoned (%)"
set ylabel "accuracy (%)"
set xrange [0:100]
set xtics 10
set yrange [0:100]
set ytics 10
set key outside right top noenhanced
plot \
  "accuracy_1000.dat" index 0 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 6 lw 2 pt 15 ps 0.7 title "mnist file"
set terminal svg size 1000,620 dynamic noenhanced font "sans,12"
set output "accuracy_1000.svg"
replot
set output
