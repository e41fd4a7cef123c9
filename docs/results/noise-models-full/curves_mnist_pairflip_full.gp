# curves_mnist_pairflip_full.gp -- Validation accuracy per epoch: mnist, pairflip, full training set
# Written by `poisonfarm report`; restyle and rerun with: gnuplot curves_mnist_pairflip_full.gp
# Data: curves_mnist_pairflip_full.dat (accuracies as fractions; this script shows them in %).
reset
set encoding utf8
set terminal pngcairo size 1000,620 noenhanced font "sans,12"
set output "curves_mnist_pairflip_full.png"
set grid lc rgb "#dddddd"
set key outside right top noenhanced
set style fill transparent solid 0.18 noborder
set title "Validation accuracy per epoch: mnist, pairflip, full training set"
set xlabel "epoch"
set ylabel "validation accuracy (%)"
set xrange [1:35]
set xtics 4
set yrange [0:100]
set ytics 10
set key title "poisoned"
plot \
  "curves_mnist_pairflip_full.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" lw 2 pt 7 ps 0.5 title "0 %", \
  "curves_mnist_pairflip_full.dat" index 1 using 1:($2*100) with linespoints lc rgb "#68577c" lw 2 pt 7 ps 0.5 title "40 %", \
  "curves_mnist_pairflip_full.dat" index 2 using 1:($2*100) with linespoints lc rgb "#b13744" lw 2 pt 7 ps 0.5 title "80 %"
set terminal svg size 1000,620 dynamic noenhanced font "sans,12"
set output "curves_mnist_pairflip_full.svg"
replot
set output
